"""The records the emulator keeps: projects, clusters, snapshots, restore jobs, download links.

Restore jobs have no stored status: like Atlas, their state is derived, here from the clock.
The names say they are the emulator's own (``StoredRestoreJob``, ``ServedDownload``), apart
from the provider's parsed answers (``models.RestoreJob``, ``download.destination.DownloadLink``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_atlas_restore.testing.flex_records import FlexCluster

__all__ = [
    "DELIVERY_TYPES",
    "SNAPSHOT_STATUSES",
    "Cluster",
    "JobState",
    "Project",
    "ServedDownload",
    "Snapshot",
    "StoredRestoreJob",
]

JobState = Literal["pending", "ready", "finished", "failed", "cancelled", "expired"]
DELIVERY_TYPES = ("automated", "download", "pointInTime")
SNAPSHOT_STATUSES = ("queued", "inProgress", "completed", "failed")


@dataclass
class Snapshot:
    """A replica-set snapshot, or a sharded-cluster snapshot with one member per replica set."""

    id: str
    group_id: str
    cluster_name: str
    created_at: float
    status: str
    size_bytes: int
    replica_set_name: str | None  # None for a sharded snapshot
    members: list[tuple[str, str]] = field(default_factory=list)  # (replicaSetName, member id)
    snapshot_type: str = "scheduled"
    frequency_type: str = "daily"
    description: str | None = None
    policy_item_id: str = ""
    mongod_version: str = "8.0.4"
    retention_seconds: float = 7 * 86_400.0
    seq: int = 0

    @property
    def sharded(self) -> bool:
        """True for a sharded-cluster snapshot."""
        return self.replica_set_name is None


@dataclass
class ServedDownload:
    """One download URL of a download restore job (one per replica set when sharded)."""

    token: str
    job: StoredRestoreJob
    replica_set_name: str
    filename: str
    archive_name: str
    size: int
    mtime: int
    used: bool = False
    endpoint_id: str | None = None  # set on a private-endpoint link (privateDownloadDeliveryUrls)


@dataclass
class StoredRestoreJob:
    """A restore job; ``state(now)`` derives where it is in its life."""

    id: str
    group_id: str
    cluster_name: str
    delivery_type: str
    snapshot_id: str
    snapshot_time: float
    created_at: float
    ready_after: float
    url_ttl: float
    sharded: bool
    target_cluster_name: str | None = None
    target_group_id: str | None = None
    target_deployment_item_name: str | None = None
    point_in_time_utc_seconds: int | None = None
    oplog_ts: int | None = None
    oplog_inc: int | None = None
    links: list[ServedDownload] = field(default_factory=list)
    private_links: list[ServedDownload] = field(default_factory=list)  # per endpoint, per replica set
    extra: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    failed_at: float | None = None
    expired_forced: bool = False

    @property
    def ready_at(self) -> float:
        """Clock time at which the job becomes ready (download) or finishes (others)."""
        return self.created_at + self.ready_after

    def state(self, now: float) -> JobState:
        """Return the job's state at clock time ``now``.

        :param now: clock time.
        """
        if self.cancelled:
            return "cancelled"
        if self.failed_at is not None and now >= self.failed_at:
            return "failed"
        if self.expired_forced:
            return "expired"
        if now < self.ready_at:
            return "pending"
        if self.delivery_type != "download":
            return "finished"
        return "expired" if now >= self.ready_at + self.url_ttl else "ready"

    def force_state(self, state: JobState, now: float) -> None:
        """Put the job in ``state`` from clock time ``now`` on, as a test or a DELETE would.

        :param state: ``ready`` (download jobs) or ``finished`` (others) ends the wait now;
            ``failed``, ``cancelled`` and ``expired`` mark the job so.
        :param now: clock time.
        :raises ValueError: for ``pending``, or ``ready`` / ``finished`` on the other kind of job.
        """
        if state == "failed":
            self.failed_at = now
        elif state == "cancelled":
            self.cancelled = True
        elif state == "expired":
            self.expired_forced = True
        elif state == ("ready" if self.delivery_type == "download" else "finished"):
            self.ready_after = max(0.0, now - self.created_at)
        else:
            raise ValueError(f"a {self.delivery_type} restore job cannot be put in state {state!r}")


@dataclass
class Cluster:
    """A replica set or sharded cluster with its snapshots and restore jobs."""

    name: str
    group_id: str
    sharded: bool
    replica_set_names: list[str]
    deployment_item_name: str
    id: str = ""
    created_at: float = 0.0
    continuous_backup: bool = True  # the cluster's pitEnabled
    restore_window_days: int = 7  # the backup schedule's restoreWindowDays
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    jobs: dict[str, StoredRestoreJob] = field(default_factory=dict)
    job_order: list[str] = field(default_factory=list)  # oldest first

    def snapshots_newest_first(self, sharded: bool) -> list[Snapshot]:
        """Return this cluster's snapshots of one kind, newest first.

        :param sharded: True for sharded-cluster snapshots, False for replica-set ones.
        """
        chosen = [s for s in self.snapshots.values() if s.sharded == sharded]
        return sorted(chosen, key=lambda s: (s.created_at, s.seq), reverse=True)

    def jobs_page(self, start: int, count: int) -> list[StoredRestoreJob]:
        """Return ``count`` jobs from position ``start`` of the newest-first order.

        :param start: zero-based position.
        :param count: page size.
        """
        end = len(self.job_order) - start
        ids = self.job_order[max(0, end - count) : max(0, end)]
        return [self.jobs[i] for i in reversed(ids)]


@dataclass
class Project:
    """An Atlas project (group)."""

    id: str
    name: str
    org_id: str
    created: float
    clusters: dict[str, Cluster] = field(default_factory=dict)
    private_endpoints: list[str] = field(default_factory=list)  # endpoint ids, such as vpce-...
    flex_clusters: dict[str, FlexCluster] = field(default_factory=dict)  # same name space as clusters
