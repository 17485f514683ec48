"""masking: every rule about secret links in one module, and the old import paths still lead to it."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import redact

from airflow_provider_atlas_restore import masking
from airflow_provider_atlas_restore.models import secret_links
from tests.test_private_links import job_with_private_links, private_link


def test_redaction_replaces_every_link_secret_links_knows_keeping_the_count():
    job, _ = job_with_private_links()

    redacted = masking.redact_delivery_urls(job)

    assert list(secret_links(redacted)) == [masking.REDACTED_URL] * len(list(secret_links(job)))


def test_redaction_shares_what_holds_no_link_instead_of_copying_it():
    job, _ = job_with_private_links()
    job["links"] = [{"rel": "self", "href": "https://cloud.mongodb.com/api/atlas/v2/x"}]

    redacted = masking.redact_delivery_urls(job)

    assert redacted["links"] is job["links"]
    assert redacted["privateDownloadDeliveryUrls"] is not job["privateDownloadDeliveryUrls"]
    assert masking.REDACTED_URL not in list(secret_links(job))  # the original is left as it was


def test_result_redaction_keeps_the_xcom_shape_and_reads_back_without_a_usable_link():
    from airflow_provider_atlas_restore.models import RestoreJobResult

    link = private_link()
    result = {
        "restore_job_id": "a" * 24,
        "cluster_name": "Cluster0",
        "delivery_urls": [link, link],
        "components": [
            {"replica_set_name": "shard-0", "download_url": link},
            {"replica_set_name": "shard-1", "download_url": None},
        ],
    }

    redacted = masking.redact_result_links(result)

    assert redacted["delivery_urls"] == [masking.REDACTED_URL] * 2
    assert [c["download_url"] for c in redacted["components"]] == [masking.REDACTED_URL, None]
    assert link not in json.dumps(redacted)
    assert result["delivery_urls"] == [link, link]  # the original is left as it was
    read = RestoreJobResult.from_xcom(redacted)
    assert not any(masking.is_usable_link(url) for url in read.delivery_urls)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda link: {"restore_job": {"components": [{"download_url": link}]}},
        lambda link: json.dumps({"delivery_urls": [link]}),
        lambda link: str({"delivery_urls": (link,)}),
    ],
    ids=["nested dict", "json text", "python repr text"],
)
def test_links_anywhere_in_a_value_are_registered_with_the_masker(wrap):
    link = private_link()

    masking.mask_links_in(wrap(link))

    path = "/" + link.split("/", 3)[3]
    assert redact(f"link {link}") == "link ***"
    assert path not in redact(f"GET {path} HTTP/1.1")


@pytest.mark.parametrize(
    ("value", "usable"),
    [("https://x.example.invalid/a", True), (masking.REDACTED_URL, False), ("", False), (None, False)],
)
def test_only_a_real_link_is_usable(value, usable):
    assert masking.is_usable_link(value) is usable


def test_old_import_paths_lead_to_the_masking_rules():
    from airflow_provider_atlas_restore.download.downloader import mask_link as downloader_mask_link
    from airflow_provider_atlas_restore.download.urls import mask_link
    from airflow_provider_atlas_restore.hooks.atlas import mask_delivery_urls
    from airflow_provider_atlas_restore.operators.restore_jobs import REDACTED_URL, redact_delivery_urls

    assert mask_delivery_urls is masking.mask_delivery_urls
    assert redact_delivery_urls is masking.redact_delivery_urls
    assert mask_link is downloader_mask_link is masking.mask_link
    assert REDACTED_URL == masking.REDACTED_URL
