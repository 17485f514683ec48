"""
A snapshot export job: its state, whether waiting for it is over, and what a task hands on.

``state`` is ``Queued``, ``InProgress``, ``Successful``, ``Failed`` or ``Cancelled``;
``stateReason`` explains a failure. ``exportStatus`` stays 0/0 even on success (recorded), so
it is never read as progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.export_bucket import ExportBucket
from airflow_provider_atlas_restore.models.resource_state import ResourceState
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp
from airflow_provider_atlas_restore.models.wait import WaitOutcome, WaitStatus
from airflow_provider_atlas_restore.models.xcom_fields import XcomFields, iso_or_none, text_field


class ExportJobState(ResourceState):
    """An export job's ``state``; terminal are ``Successful``, ``Failed`` and ``Cancelled``."""

    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @classmethod
    def _successes(cls) -> frozenset[Any]:
        return frozenset({cls.SUCCESSFUL})

    @classmethod
    def _failures(cls) -> frozenset[Any]:
        return frozenset({cls.FAILED, cls.CANCELLED})


@dataclass(frozen=True)
class ExportComponent:
    """
    The export of one shard of a sharded cluster.

    :param export_id: the shard's export job id.
    :param replica_set_name: the shard's replica set.
    """

    export_id: str | None
    replica_set_name: str | None


@dataclass(frozen=True)
class ExportJob:
    """
    A typed view of one export job; ``raw`` keeps every field Atlas sent.

    :param raw: the export job as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ExportJob:
        """Wrap one export job from an API answer; missing and unknown fields are tolerated."""
        return cls(raw=raw)

    @property
    def id(self) -> str | None:
        """Return the export job id."""
        return text_field(self.raw, "id")

    @property
    def state(self) -> ExportJobState | None:
        """Return the state, or ``None`` when Atlas sent none this enum knows."""
        return ExportJobState.parse(self.raw.get("state"))

    @property
    def state_reason(self) -> str | None:
        """Return Atlas's reason for a failure: ``stateReason`` message and error code, or ``None``."""
        reason = self.raw.get("stateReason")
        if not isinstance(reason, Mapping):
            return None
        message, code = text_field(reason, "message"), text_field(reason, "errorCode")
        if message and code:
            return f"{message.rstrip('.')} ({code})"
        return message or code

    @property
    def prefix(self) -> str | None:
        """Return where in the bucket the export goes, without a leading slash as Atlas sends it."""
        return text_field(self.raw, "prefix")

    @property
    def snapshot_id(self) -> str | None:
        """Return the exported snapshot's id."""
        return text_field(self.raw, "snapshotId")

    @property
    def export_bucket_id(self) -> str | None:
        """Return the bucket's id."""
        return text_field(self.raw, "exportBucketId")

    @property
    def created_at(self) -> datetime | None:
        """Return when the job was created."""
        return parse_timestamp(self.raw.get("createdAt"))

    @property
    def finished_at(self) -> datetime | None:
        """Return when the job ended (Atlas sends it only then)."""
        return parse_timestamp(self.raw.get("finishedAt"))

    @property
    def components(self) -> list[ExportComponent]:
        """Return one entry per shard of a sharded cluster's export; empty for a replica set."""
        items = self.raw.get("components")
        return [
            ExportComponent(text_field(item, "exportId"), text_field(item, "replicaSetName"))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, Mapping)
        ]


def evaluate_export_job(
    job: Mapping[str, Any], *, cluster_name: str, export_id: str | None = None
) -> WaitOutcome:
    """
    Decide whether waiting for an export job is over, and how.

    :param job: the export job as Atlas returned it.
    :param cluster_name: its cluster, for the message.
    :param export_id: the validated id asked for, named rather than the id the server echoed.
    """
    view = ExportJob.from_api(job)
    what = f"Export job {export_id or view.id} of cluster {cluster_name}"
    state = view.state
    if state is None:
        return WaitOutcome(
            WaitStatus.PENDING,
            ExportJobState.QUEUED,
            f"{what} reports state {job.get('state')!r}, which Atlas does not document: waiting on.",
        )
    if state.is_failure:
        reason = view.state_reason
        return WaitOutcome(
            WaitStatus.FAILED,
            state,
            f"{what} is {state.value}: " + (f"{reason}." if reason else "Atlas gives no reason."),
        )
    where = f" into {view.prefix}" if view.prefix else ""
    if state.is_success:
        return WaitOutcome(
            WaitStatus.DONE, state, f"{what} is {state.value}: the snapshot is exported{where}."
        )
    shards = f" ({len(view.components)} shards)" if view.components else ""
    return WaitOutcome(
        WaitStatus.PENDING, state, f"{what} is {state.value}, waiting for the export{where}{shards}."
    )


@dataclass(frozen=True)
class ExportJobResult:
    """
    An export job as a task hands it on (XCom): where the export is, and how it ended.

    :param export_job_id: the export job id.
    :param cluster_name: its cluster.
    :param group_id: its project.
    :param snapshot_id: the exported snapshot.
    :param export_bucket_id: the bucket's id.
    :param bucket_name: the bucket's name, when known.
    :param cloud_provider: the bucket's provider, when known.
    :param state: the job's state when read.
    :param prefix: where in the bucket the export is.
    :param uri: ``s3://bucket/prefix`` (or ``gs://``, ``abfs://``) for ``ObjectStoragePath``, when known.
    :param finished_at: when the job ended.
    :param components: ``(replica_set_name, export_id)`` per shard of a sharded cluster.
    """

    export_job_id: str
    cluster_name: str | None
    group_id: str | None
    snapshot_id: str | None = None
    export_bucket_id: str | None = None
    bucket_name: str | None = None
    cloud_provider: str | None = None
    state: ExportJobState | None = None
    prefix: str | None = None
    uri: str | None = None
    finished_at: datetime | None = None
    components: tuple[ExportComponent, ...] = ()

    @classmethod
    def from_job(
        cls,
        job: Mapping[str, Any],
        *,
        export_job_id: str,
        cluster_name: str | None,
        group_id: str | None,
        bucket: Mapping[str, Any] | None = None,
    ) -> ExportJobResult:
        """
        Read an export job (and its bucket, when known) as Atlas returned them.

        :param job: the export job.
        :param export_job_id: its validated id.
        :param cluster_name: its cluster.
        :param group_id: its project.
        :param bucket: the export bucket, for its name, provider and the URI.
        """
        view = ExportJob.from_api(job)
        bucket_view = ExportBucket.from_api(bucket) if bucket is not None else None
        return cls(
            export_job_id=export_job_id,
            cluster_name=cluster_name,
            group_id=group_id,
            snapshot_id=view.snapshot_id,
            export_bucket_id=view.export_bucket_id,
            bucket_name=bucket_view.bucket_name if bucket_view else None,
            cloud_provider=bucket_view.cloud_provider if bucket_view else None,
            state=view.state,
            prefix=view.prefix,
            uri=bucket_view.object_storage_uri(view.prefix) if bucket_view else None,
            finished_at=view.finished_at,
            components=tuple(view.components),
        )

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON dict handed downstream through XCom."""
        return {
            "export_job_id": self.export_job_id,
            "cluster_name": self.cluster_name,
            "group_id": self.group_id,
            "snapshot_id": self.snapshot_id,
            "export_bucket_id": self.export_bucket_id,
            "bucket_name": self.bucket_name,
            "cloud_provider": self.cloud_provider,
            "state": self.state.value if self.state else None,
            "prefix": self.prefix,
            "uri": self.uri,
            "finished_at": iso_or_none(self.finished_at),
            "components": [
                {"replica_set_name": item.replica_set_name, "export_id": item.export_id}
                for item in self.components
            ],
        }

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> ExportJobResult:
        """
        Read back what :meth:`to_xcom` gave, or raise :class:`AtlasInputError` naming the bad field.

        :param data: the XCom dict.
        """
        fields = XcomFields(data, "export_job")
        export_job_id = fields.object_id("export_job_id")
        if export_job_id is None:
            raise AtlasInputError("export_job: export_job_id is missing: pass an export task's XCom value.")
        components = fields.present("components") or []
        if not isinstance(components, list) or not all(isinstance(item, Mapping) for item in components):
            raise AtlasInputError(
                "export_job: components must be a list of {'replica_set_name', 'export_id'}."
            )
        return cls(
            export_job_id=export_job_id,
            cluster_name=fields.cluster_name(),
            group_id=fields.object_id("group_id"),
            snapshot_id=fields.object_id("snapshot_id"),
            export_bucket_id=fields.object_id("export_bucket_id"),
            bucket_name=fields.text("bucket_name"),
            cloud_provider=fields.text("cloud_provider"),
            state=fields.state("state", ExportJobState),
            prefix=fields.text("prefix"),
            uri=fields.text("uri"),
            finished_at=fields.moment("finished_at"),
            components=tuple(
                ExportComponent(
                    export_id=XcomFields(item, "export_job.components").object_id("export_id"),
                    replica_set_name=XcomFields(item, "export_job.components").text("replica_set_name"),
                )
                for item in components
            ),
        )
