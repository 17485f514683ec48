"""A small typed view of Atlas restore jobs, derived leniently from the raw JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.restore_job_state import RestoreJobState as RestoreJobState
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp as parse_timestamp

# RestoreJobState and parse_timestamp have light homes of their own (a DAG file imports them
# without this module); they stay importable from here.

#: The ``status`` values of a flex restore job (dedicated jobs send none), upper case.
FLEX_JOB_STATUSES = ("PENDING", "QUEUED", "RUNNING", "COMPLETED", "FAILED")


def _as_url_list(value: Any) -> list[str]:
    """Return delivery URLs as a list: Atlas sends a list, the v1.0 documents a single string."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _as_flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass(frozen=True)
class RestoreComponent:
    """
    One replica set of a sharded cluster's download restore.

    :param replica_set_name: the shard's or config server's replica set name.
    :param download_url: the bearer link to its snapshot file, or ``None`` until ready.
    """

    replica_set_name: str | None
    download_url: str | None


@dataclass(frozen=True)
class RestoreJob:
    """
    A typed view of one restore job, dedicated or flex; ``raw`` keeps every field Atlas sent, known or not.

    A flex job (``/flexClusters/{name}/backup/restoreJobs``) is told by its ``status`` field, which
    dedicated jobs do not send: its ``restoreFinishedDate``, ``expirationDate``, ``snapshotUrl``,
    ``targetDeploymentItemName`` and ``targetProjectId`` stand where a dedicated job has
    ``finishedAt``, ``expiresAt``, ``deliveryUrl``, ``targetClusterName`` and ``targetGroupId``.

    :param raw: the job as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> RestoreJob:
        """Wrap one job from an API answer; missing and unknown fields are tolerated."""
        return cls(raw=raw)

    @property
    def id(self) -> str | None:
        """Return the job id."""
        value = self.raw.get("id")
        return value if isinstance(value, str) else None

    @property
    def is_flex(self) -> bool:
        """Return whether this is a flex cluster's job: it has a ``status`` (dedicated jobs have none)."""
        status = self.raw.get("status")
        return isinstance(status, str) and bool(status)

    @property
    def status(self) -> str | None:
        """Return a flex job's ``status`` in upper case (``PENDING`` ... ``COMPLETED``), else ``None``."""
        return str(self.raw["status"]).upper() if self.is_flex else None

    @property
    def delivery_type(self) -> str | None:
        """Return ``download``, ``automated`` or ``pointInTime``; a flex job's ``RESTORE`` or ``DOWNLOAD``."""
        value = self.raw.get("deliveryType")
        return value if isinstance(value, str) else None

    @property
    def is_download(self) -> bool:
        """Return whether the job makes download links: a dedicated ``download``, a flex ``DOWNLOAD``."""
        kind = self.delivery_type
        return kind == "download" or (self.is_flex and kind is not None and kind.upper() == "DOWNLOAD")

    @property
    def target_cluster_name(self) -> str | None:
        """Return the cluster restored into: ``targetClusterName``, or a flex job's ``targetDeploymentItemName``."""
        for key in ("targetClusterName", "targetDeploymentItemName"):
            value = self.raw.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def target_group_id(self) -> str | None:
        """Return the target's project: ``targetGroupId``, or a flex job's ``targetProjectId``."""
        for key in ("targetGroupId", "targetProjectId"):
            value = self.raw.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def snapshot_id(self) -> str | None:
        """Return the id of the restored snapshot."""
        value = self.raw.get("snapshotId")
        return value if isinstance(value, str) else None

    @property
    def delivery_urls(self) -> list[str]:
        """Return the download links (secret bearer links), a flex job's ``snapshotUrl`` too; empty until ready."""
        return _as_url_list(self.raw.get("deliveryUrl")) + _as_url_list(self.raw.get("snapshotUrl"))

    @property
    def components(self) -> list[RestoreComponent]:
        """Return one entry per replica set of a sharded cluster's download; empty otherwise."""
        components = self.raw.get("components")
        if not isinstance(components, list):
            return []
        return [
            RestoreComponent(
                replica_set_name=item.get("replicaSetName")
                if isinstance(item.get("replicaSetName"), str)
                else None,
                download_url=item.get("downloadUrl") or None
                if isinstance(item.get("downloadUrl"), str)
                else None,
            )
            for item in components
            if isinstance(item, Mapping)
        ]

    @property
    def expires_at(self) -> datetime | None:
        """Return when the download links expire: ``expiresAt``, or a flex job's ``expirationDate``."""
        return parse_timestamp(self.raw.get("expiresAt")) or parse_timestamp(self.raw.get("expirationDate"))

    @property
    def finished_at(self) -> datetime | None:
        """Return when a restore finished: ``finishedAt``, or a flex job's ``restoreFinishedDate``."""
        return parse_timestamp(self.raw.get("finishedAt")) or parse_timestamp(
            self.raw.get("restoreFinishedDate")
        )

    @property
    def state(self) -> RestoreJobState:
        """Return the state derived from the flags, ``finishedAt``, ``deliveryUrl`` and ``components``; a flex job's from ``status``."""
        if self.is_flex:
            return _flex_state(self.status, download=self.is_download)
        if _as_flag(self.raw.get("cancelled")):
            return RestoreJobState.CANCELLED
        if _as_flag(self.raw.get("failed")):
            return RestoreJobState.FAILED
        if _as_flag(self.raw.get("expired")):
            return RestoreJobState.EXPIRED
        if self.delivery_type == "download":
            return RestoreJobState.READY if self.download_ready else RestoreJobState.PENDING
        if self.finished_at is not None:
            return RestoreJobState.FINISHED
        return RestoreJobState.PENDING

    @property
    def download_ready(self) -> bool:
        """Return whether every link is there: ``deliveryUrl`` and each component's ``downloadUrl``."""
        if not self.delivery_urls:
            return False
        return all(component.download_url for component in self.components)

    def is_expired_at(self, now: datetime) -> bool:
        """Return whether the job is expired by its flag or by ``expiresAt`` having passed at ``now``."""
        expires_at = self.expires_at
        return self.state is RestoreJobState.EXPIRED or (expires_at is not None and expires_at <= now)


def _flex_state(status: str | None, *, download: bool) -> RestoreJobState:
    """Return the state of a flex job's ``status``: ``COMPLETED`` is ready or finished, ``FAILED`` failed."""
    if status == "COMPLETED":
        return RestoreJobState.READY if download else RestoreJobState.FINISHED
    if status == "FAILED":
        return RestoreJobState.FAILED
    return RestoreJobState.PENDING  # PENDING, QUEUED, RUNNING, and any status Atlas adds later


def _private_links(holder: Mapping[str, Any]) -> Iterator[str]:
    entries = holder.get("privateDownloadDeliveryUrls")
    if not isinstance(entries, list):
        return
    for entry in entries:
        url = entry.get("deliveryUrl") if isinstance(entry, Mapping) else entry
        if isinstance(url, str) and url:
            yield url


def secret_links(job: Mapping[str, Any]) -> Iterator[str]:
    """
    Yield every secret download link of a restore job as Atlas returned it.

    That is each ``deliveryUrl`` (and a flex job's ``snapshotUrl``), each
    ``components[].downloadUrl`` and every ``privateDownloadDeliveryUrls[].deliveryUrl``, at the
    top level and in ``components[]``.
    Masking registers what it yields; a test holds redaction to the same fields.

    :param job: a restore job as Atlas returned it.
    """
    view = RestoreJob.from_api(job)
    yield from view.delivery_urls
    yield from _private_links(job)
    components = job.get("components")
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, Mapping):
            continue
        url = component.get("downloadUrl")
        if isinstance(url, str) and url:
            yield url
        yield from _private_links(component)


def newest_completed(snapshots: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """
    Return the completed snapshot taken last, or ``None``; queued, in-progress and failed ones are skipped.

    :param snapshots: snapshots as Atlas lists them (any order).
    """
    completed = [
        snapshot
        for snapshot in snapshots
        if snapshot.get("status") == "completed" and parse_timestamp(snapshot.get("createdAt")) is not None
    ]
    if not completed:
        return None
    latest = max(completed, key=lambda snapshot: parse_timestamp(snapshot.get("createdAt")) or datetime.min)
    return dict(latest)


def _endpoint_links(holder: Mapping[str, Any], endpoint_id: str) -> list[str]:
    """Return the private links of ``holder`` (a job or a component) for ``endpoint_id``, in order."""
    entries = holder.get("privateDownloadDeliveryUrls")
    return [
        entry["deliveryUrl"]
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, Mapping)
        and entry.get("endpointId") == endpoint_id
        and isinstance(entry.get("deliveryUrl"), str)
        and entry["deliveryUrl"]
    ]


def private_endpoint_ids(job: Mapping[str, Any]) -> list[str]:
    """
    Return the ids of every private endpoint a job has links for, at the top level or per component, sorted.

    :param job: a restore job as Atlas returned it.
    """
    holders = [job, *[c for c in job.get("components") or [] if isinstance(c, Mapping)]]
    found = {
        entry.get("endpointId")
        for holder in holders
        for entry in holder.get("privateDownloadDeliveryUrls") or []
        if isinstance(entry, Mapping) and isinstance(entry.get("endpointId"), str)
    }
    return sorted(str(endpoint) for endpoint in found)


def with_private_links(job: Mapping[str, Any], endpoint_id: str, *, where: str) -> dict[str, Any]:
    """
    Return a copy of a ready download job whose links are its private links for ``endpoint_id``.

    ``deliveryUrl`` becomes the job's ``privateDownloadDeliveryUrls`` of that endpoint, and each
    ``components[].downloadUrl`` the component's own. Raise :class:`AtlasInputError` (no link
    shown) when the job, or any component, has no private link for the endpoint.

    :param job: a ready download job as Atlas returned it.
    :param endpoint_id: the private endpoint to download through.
    :param where: names the job in the message, such as ``Restore job ... of cluster ...``.
    """
    copied = dict(job)
    components = [c for c in job.get("components") or [] if isinstance(c, Mapping)]
    missing: list[str] = []
    if components:
        replaced = []
        for index, component in enumerate(components, start=1):
            links = _endpoint_links(component, endpoint_id)
            if not links:
                missing.append(f"component {component.get('replicaSetName') or index}")
            replaced.append({**component, "downloadUrl": links[0] if links else None})
        copied["components"] = replaced
        top = _endpoint_links(job, endpoint_id) or [
            str(c["downloadUrl"]) for c in replaced if c["downloadUrl"]
        ]
    else:
        top = _endpoint_links(job, endpoint_id)
        if not top:
            missing.append("the job")
    if missing:
        known = private_endpoint_ids(job)
        offered = (
            f"its private links are for {', '.join(known)}"
            if known
            else "it has no private links (Atlas adds them when the project has a private endpoint "
            "for Cloud Backup downloads)"
        )
        raise AtlasInputError(
            f"{where} has no private download link for endpoint {endpoint_id} (missing on "
            f"{', '.join(missing)}): {offered}. Nothing was downloaded. Give one of its endpoints as "
            "private_endpoint_id, or none to download through the public links."
        )
    copied["deliveryUrl"] = top
    return copied
