"""Private-endpoint download links (privateDownloadDeliveryUrls) are secrets like every other link."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import redact

from airflow_provider_atlas_restore.hooks.atlas import mask_delivery_urls
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor
from tests.conftest import CLUSTER, JOB_ID, jobs_url, make_job, page_body


def private_link() -> str:
    return f"https://private.example.invalid:27017/{uuid.uuid4().hex}/restore.tar.gz"


def job_with_private_links() -> tuple[dict[str, Any], list[str]]:
    """Return a ready sharded job whose private links (top level and per component) are fresh."""
    top, shard = private_link(), private_link()
    public = f"https://public.example.invalid/{uuid.uuid4().hex}/restore.tar.gz"
    job = make_job(
        int(JOB_ID, 16),
        deliveryUrl=[public],
        privateDownloadDeliveryUrls=[{"deliveryUrl": top, "endpointId": "vpce-3bf78b0ddee411ba1"}],
        components=[
            {
                "replicaSetName": "shard-0",
                "downloadUrl": public,
                "privateDownloadDeliveryUrls": [
                    {"deliveryUrl": shard, "endpointId": "vpce-3bf78b0ddee411ba1"}
                ],
            }
        ],
    )
    return job, [top, shard]


def assert_masked(links: list[str], logs: str) -> None:
    for link in links:
        assert link not in redact(link)
        path = "/" + link.split("/", 3)[3]
        assert path not in redact(f"GET {path} HTTP/1.1")  # the path alone, as urllib3 logs it
        assert all(link not in redact(line) for line in logs.splitlines())


def test_secret_links_yields_every_kind_of_link_of_a_job():
    from airflow_provider_atlas_restore.models import secret_links

    job, private = job_with_private_links()
    assert sorted(secret_links(job)) == sorted(
        [*job["deliveryUrl"], job["components"][0]["downloadUrl"], *private]
    )


def test_mask_delivery_urls_registers_private_links():
    job, private = job_with_private_links()
    mask_delivery_urls(job)
    assert_masked(private, "")


def test_listing_with_delivery_urls_masks_private_links(atlas_connection, requests_mock, log_text):
    job, private = job_with_private_links()
    requests_mock.get(jobs_url(), json=page_body([job], total=1))
    operator = AtlasListRestoreJobsOperator(task_id="list", cluster_name=CLUSTER, include_delivery_urls=True)
    [listed] = operator.execute(context={})  # type: ignore[arg-type]
    assert listed["privateDownloadDeliveryUrls"][0]["deliveryUrl"] == private[0]
    operator.log.debug("listed %s", listed)
    assert_masked(private, log_text())


def test_sensor_masks_private_links_of_the_job_it_read(atlas_connection, requests_mock, log_text):
    job, private = job_with_private_links()
    requests_mock.get(f"{jobs_url()}/{JOB_ID}", json=job)
    sensor = AtlasRestoreJobSensor(
        task_id="wait", cluster_name=CLUSTER, restore_job_id=JOB_ID, deferrable=False
    )
    outcome: Any = sensor.poke(context={})  # type: ignore[arg-type]
    assert outcome.is_done
    sensor.log.debug("job %s", job)
    assert_masked(private, log_text())


def test_with_private_links_puts_the_endpoints_links_in_place_of_the_public_ones():
    from airflow_provider_atlas_restore.models import RestoreJob
    from airflow_provider_atlas_restore.models.restore_job import private_endpoint_ids, with_private_links

    job, [top, shard] = job_with_private_links()
    job["privateDownloadDeliveryUrls"].append(
        {"deliveryUrl": private_link(), "endpointId": "vpce-00000000000000000"}
    )

    chosen = RestoreJob.from_api(with_private_links(job, "vpce-3bf78b0ddee411ba1", where="Job"))

    assert chosen.delivery_urls == [top]
    assert [component.download_url for component in chosen.components] == [shard]
    assert private_endpoint_ids(job) == ["vpce-00000000000000000", "vpce-3bf78b0ddee411ba1"]
    assert job["components"][0]["downloadUrl"] != shard  # the job itself is not changed


def test_a_component_without_the_endpoints_link_is_named_and_no_link_is_shown():
    from airflow_provider_atlas_restore.exceptions import AtlasInputError
    from airflow_provider_atlas_restore.models.restore_job import with_private_links

    job, private = job_with_private_links()
    job["components"].append({"replicaSetName": "shard-1", "downloadUrl": job["deliveryUrl"][0]})

    with pytest.raises(AtlasInputError) as refused:
        with_private_links(job, "vpce-3bf78b0ddee411ba1", where="Restore job X")

    message = str(refused.value)
    assert "Restore job X has no private download link for endpoint vpce-3bf78b0ddee411ba1" in message
    assert "missing on component shard-1" in message
    assert all(link not in message for link in [*private, *job["deliveryUrl"]])


def test_download_through_a_private_endpoint_never_logs_its_links(
    atlas_emulator, emulator_connection, log_text, tmp_path
):
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

    seed = atlas_emulator.seed
    endpoint = atlas_emulator.add_private_endpoint(seed.group_id)
    job_id = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name)["id"]
    private = atlas_emulator.private_download_urls(seed.group_id, seed.cluster_name, job_id)
    operator = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job_id=job_id,
        cluster_name=seed.cluster_name,
        destination=str(tmp_path),
        allow_http=True,
        private_endpoint_id=endpoint,
    )

    [written] = operator.execute(context={})  # type: ignore[arg-type]

    assert written["bytes"] > 0
    assert atlas_emulator.stats.count(route="private_download", status=200) == 1
    assert_masked(private, log_text())
