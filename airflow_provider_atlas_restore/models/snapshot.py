"""
A Cloud Backup snapshot: its status, whether waiting for it is over, and what a task hands on.

Atlas's snapshot ``status`` is ``queued``, ``inProgress``, ``completed`` or ``failed`` (flex
snapshots spell them in capitals; both are read). An on-demand snapshot shows
``storageSizeBytes`` 0 and no ``createdAt`` until it is completed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.resource_state import ResourceState
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp
from airflow_provider_atlas_restore.models.wait import WaitOutcome, WaitStatus
from airflow_provider_atlas_restore.models.xcom_fields import XcomFields, count_field, iso_or_none, text_field


class SnapshotStatus(ResourceState):
    """A snapshot's ``status``; terminal are ``completed`` and ``failed``."""

    QUEUED = "queued"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def _successes(cls) -> frozenset[Any]:
        return frozenset({cls.COMPLETED})

    @classmethod
    def _failures(cls) -> frozenset[Any]:
        return frozenset({cls.FAILED})


@dataclass(frozen=True)
class Snapshot:
    """
    A typed view of one snapshot; ``raw`` keeps every field Atlas sent.

    :param raw: the snapshot as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Snapshot:
        """Wrap one snapshot from an API answer; missing and unknown fields are tolerated."""
        return cls(raw=raw)

    @property
    def id(self) -> str | None:
        """Return the snapshot id."""
        return text_field(self.raw, "id")

    @property
    def status(self) -> SnapshotStatus | None:
        """Return the status, or ``None`` when Atlas sent none this enum knows."""
        return SnapshotStatus.parse(self.raw.get("status"))

    @property
    def snapshot_type(self) -> str | None:
        """Return ``onDemand``, ``scheduled`` or ``fallback``."""
        return text_field(self.raw, "snapshotType")

    @property
    def is_on_demand(self) -> bool:
        """Return whether the snapshot was taken on request (``snapshotType: onDemand``)."""
        return self.snapshot_type == "onDemand" or self.raw.get("frequencyType") == "ondemand"

    @property
    def created_at(self) -> datetime | None:
        """Return when the snapshot was taken (on-demand: only once completed)."""
        return parse_timestamp(self.raw.get("createdAt"))

    @property
    def expires_at(self) -> datetime | None:
        """Return when Atlas deletes the snapshot."""
        return parse_timestamp(self.raw.get("expiresAt"))

    @property
    def storage_size_bytes(self) -> int | None:
        """Return the bytes stored (0 until an on-demand snapshot is completed)."""
        return count_field(self.raw, "storageSizeBytes")

    @property
    def description(self) -> str | None:
        """Return the description given when it was taken."""
        return text_field(self.raw, "description")

    @property
    def is_sharded(self) -> bool:
        """Return whether it is a sharded cluster's snapshot (``type: shardedCluster``), read at its own path."""
        return self.raw.get("type") == "shardedCluster"


def evaluate_snapshot(
    snapshot: Mapping[str, Any], *, cluster_name: str, snapshot_id: str | None = None
) -> WaitOutcome:
    """
    Decide whether waiting for a snapshot to complete is over, and how.

    :param snapshot: the snapshot as Atlas returned it.
    :param cluster_name: its cluster, for the message.
    :param snapshot_id: the validated id asked for, named rather than the id the server echoed.
    """
    view = Snapshot.from_api(snapshot)
    kind = "On-demand snapshot" if view.is_on_demand else "Snapshot"
    what = f"{kind} {snapshot_id or view.id} of cluster {cluster_name}"
    status = view.status
    if status is None:
        sent = snapshot.get("status")
        return WaitOutcome(
            WaitStatus.PENDING,
            SnapshotStatus.QUEUED,
            f"{what} reports status {sent!r}, which Atlas does not document: waiting on.",
        )
    if status.is_failure:
        return WaitOutcome(
            WaitStatus.FAILED,
            status,
            f"{what} is {status.value}: Atlas gives no reason on the snapshot; see the cluster's "
            "activity feed, then take a new snapshot.",
        )
    if status.is_success:
        size = view.storage_size_bytes
        taken = view.created_at
        details = ", ".join(
            part
            for part in (
                f"{size:,} bytes" if size is not None else "",
                f"taken at {taken.isoformat()}" if taken else "",
            )
            if part
        )
        return WaitOutcome(
            WaitStatus.DONE, status, f"{what} is completed" + (f" ({details})." if details else ".")
        )
    return WaitOutcome(WaitStatus.PENDING, status, f"{what} is {status.value}, waiting for it to complete.")


@dataclass(frozen=True)
class SnapshotResult:
    """
    A snapshot as a task hands it on (XCom): ids, status and times; ``snapshot_id`` feeds restores.

    :param snapshot_id: the snapshot id.
    :param cluster_name: its cluster.
    :param group_id: its project.
    :param status: its status when read.
    :param created_at: when it was taken.
    :param expires_at: when Atlas deletes it.
    :param storage_size_bytes: the bytes stored.
    :param description: its description.
    :param snapshot_type: ``onDemand``, ``scheduled`` or ``fallback``.
    """

    snapshot_id: str
    cluster_name: str | None
    group_id: str | None
    status: SnapshotStatus | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    storage_size_bytes: int | None = None
    description: str | None = None
    snapshot_type: str | None = None

    @classmethod
    def from_snapshot(
        cls, snapshot: Mapping[str, Any], *, snapshot_id: str, cluster_name: str | None, group_id: str | None
    ) -> SnapshotResult:
        """
        Read a snapshot as Atlas returned it; ``snapshot_id`` is the validated id, not the echoed one.

        :param snapshot: the snapshot.
        :param snapshot_id: its id.
        :param cluster_name: its cluster.
        :param group_id: its project.
        """
        view = Snapshot.from_api(snapshot)
        return cls(
            snapshot_id=snapshot_id,
            cluster_name=cluster_name,
            group_id=group_id,
            status=view.status,
            created_at=view.created_at,
            expires_at=view.expires_at,
            storage_size_bytes=view.storage_size_bytes,
            description=view.description,
            snapshot_type=view.snapshot_type,
        )

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON dict handed downstream through XCom."""
        return {
            "snapshot_id": self.snapshot_id,
            "cluster_name": self.cluster_name,
            "group_id": self.group_id,
            "status": self.status.value if self.status else None,
            "created_at": iso_or_none(self.created_at),
            "expires_at": iso_or_none(self.expires_at),
            "storage_size_bytes": self.storage_size_bytes,
            "description": self.description,
            "snapshot_type": self.snapshot_type,
        }

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> SnapshotResult:
        """
        Read back what :meth:`to_xcom` gave, or raise :class:`AtlasInputError` naming the bad field.

        :param data: the XCom dict.
        """
        fields = XcomFields(data, "snapshot")
        snapshot_id = fields.object_id("snapshot_id")
        if snapshot_id is None:
            raise AtlasInputError("snapshot: snapshot_id is missing: pass a take-snapshot task's XCom value.")
        return cls(
            snapshot_id=snapshot_id,
            cluster_name=fields.cluster_name(),
            group_id=fields.object_id("group_id"),
            status=fields.state("status", SnapshotStatus),
            created_at=fields.moment("created_at"),
            expires_at=fields.moment("expires_at"),
            storage_size_bytes=fields.integer("storage_size_bytes"),
            description=fields.text("description"),
            snapshot_type=fields.text("snapshot_type"),
        )
