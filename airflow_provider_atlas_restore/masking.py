"""
Every rule about secret links: register them with Airflow's masker, and redact them for XCom.

Download links (``deliveryUrl``, ``components[].downloadUrl``, private-endpoint links) are bearer
secrets. :func:`~airflow_provider_atlas_restore.models.secret_links` lists every kind of link a
job holds and masking registers what it yields. Redaction rewrites the same fields in place (it
must keep the job's shape), and a test checks that nothing ``secret_links`` finds survives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import mask_secret

# The restore-job model and the XCom reader are imported by the functions that use them: an
# operator module imports this one when a DAG file is parsed (benchmark figure 4p).

__all__ = [
    "REDACTED_URL",
    "is_usable_link",
    "mask_delivery_urls",
    "mask_link",
    "mask_links_in",
    "redact_delivery_urls",
    "redact_result_links",
]

#: What stands in an XCom value where a download link was (links are secret bearer URLs).
REDACTED_URL = "***"


def mask_link(url: str) -> None:
    """
    Register a download link with Airflow's secret masker: whole, and its path and query alone.

    HTTP libraries log requests without the host (``"GET /<token>/file.tar.gz"``), so the path
    (and the query of a presigned URL) must be masked as well as the full link.

    :param url: the secret link.
    """
    mask_secret(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed link: masked whole; the download refuses it later
        return
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    for secret in (path_and_query, parts.path, parts.query):
        if len(secret) > 8:
            mask_secret(secret)


def mask_delivery_urls(job: dict[str, Any]) -> dict[str, Any]:
    """
    Register a job's download links with Airflow's secret masker, so no log line shows them.

    Every link :func:`~airflow_provider_atlas_restore.models.secret_links` yields is masked,
    private-endpoint ones included: whole, and its path and query alone.

    :param job: a restore job as Atlas returned it; returned unchanged.
    """
    from airflow_provider_atlas_restore.models.restore_job import secret_links

    for url in secret_links(job):
        mask_link(url)
    return job


def mask_links_in(value: Any) -> None:
    """
    Register every link found in a (possibly nested, possibly JSON text) value as a secret.

    Every ``http(s)`` string at any depth, so it covers all that
    :func:`~airflow_provider_atlas_restore.models.secret_links` yields for a job as the API
    returns it (``privateDownloadDeliveryUrls`` included) and the sensor's XCom shape too.

    :param value: a templated or XCom value: a dict, a list, or text.
    """
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            mask_link(value)
        elif value.lstrip().startswith("{"):
            from airflow_provider_atlas_restore.models.result import parse_xcom_text

            mask_links_in(parse_xcom_text(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            mask_links_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            mask_links_in(item)


def is_usable_link(value: Any) -> bool:
    """
    Return whether ``value`` is a link to download from: non-empty text that is not redacted.

    :param value: a link as found in an XCom value.
    """
    return isinstance(value, str) and bool(value) and value != REDACTED_URL


def redact_delivery_urls(job: dict[str, Any]) -> dict[str, Any]:
    """
    Return a copy of ``job`` with every download link replaced by ``***``; lists keep their length.

    Only what holds a link is copied (the job, its components, its private-link lists); the rest
    is shared with ``job``, which is never changed. A deep copy cost as much as the whole listing.

    :param job: a restore job as Atlas returned it.
    """
    redacted = _without_links(job)
    urls = job.get("deliveryUrl")
    if isinstance(urls, list):
        redacted["deliveryUrl"] = [REDACTED_URL for _ in urls]
    elif isinstance(urls, str) and urls:
        redacted["deliveryUrl"] = REDACTED_URL
    if isinstance(job.get("snapshotUrl"), str) and job["snapshotUrl"]:
        redacted["snapshotUrl"] = REDACTED_URL  # a flex job's download link
    components = job.get("components")
    if isinstance(components, list):
        redacted["components"] = [_without_links(c) if isinstance(c, dict) else c for c in components]
    return redacted


def redact_result_links(result: dict[str, Any]) -> dict[str, Any]:
    """
    Return a copy of a restore-job result in its XCom shape with every link replaced by ``***``.

    That shape is :meth:`~airflow_provider_atlas_restore.models.RestoreJobResult.to_xcom`'s:
    ``delivery_urls`` and ``components[].download_url``. Lists keep their length and a missing
    link stays ``None``, so the value still shows how many files there are; a download task
    resolves fresh links from ``restore_job_id`` and ``cluster_name``.

    :param result: the XCom dict; never changed.
    """
    redacted = dict(result)
    urls = result.get("delivery_urls")
    if isinstance(urls, list):
        redacted["delivery_urls"] = [REDACTED_URL for _ in urls]
    components = result.get("components")
    if isinstance(components, list):
        redacted["components"] = [
            {**component, "download_url": REDACTED_URL if component.get("download_url") else None}
            if isinstance(component, dict)
            else component
            for component in components
        ]
    return redacted


def _without_links(holder: dict[str, Any]) -> dict[str, Any]:
    """Return a shallow copy of ``holder`` with its ``downloadUrl`` and private links redacted."""
    copied = dict(holder)
    if isinstance(holder.get("downloadUrl"), str):
        copied["downloadUrl"] = REDACTED_URL
    private = holder.get("privateDownloadDeliveryUrls")
    if isinstance(private, list):
        copied["privateDownloadDeliveryUrls"] = [
            {**entry, "deliveryUrl": REDACTED_URL}
            if isinstance(entry, dict) and isinstance(entry.get("deliveryUrl"), str)
            else entry
            for entry in private
        ]
    return copied
