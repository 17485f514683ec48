"""The flex-cluster records the emulator keeps: flex clusters, their snapshots, restore jobs, snapshot links.

Flex backups are their own API family (``/groups/{groupId}/flexClusters/{name}/backup/...``).
Unlike dedicated restore jobs, a flex job carries a ``status``; here it is derived from the
emulator clock (``PENDING`` -> ``QUEUED`` -> ``RUNNING`` -> ``COMPLETED``) unless a test forced one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "FLEX_ROUTE_NAMES",
    "FLEX_STATUSES",
    "FLEX_TERMINAL_STATUSES",
    "FlexCluster",
    "FlexRestoreJob",
    "FlexSnapshot",
    "FlexSnapshotLink",
]

#: ``status`` of flex restore jobs and flex snapshots (spec enum, README "Flex cluster backups").
FLEX_STATUSES = ("PENDING", "QUEUED", "RUNNING", "COMPLETED", "FAILED")
FLEX_TERMINAL_STATUSES = ("COMPLETED", "FAILED")
#: Route names of the flex family (``emulator.stats.count(route=...)``, faults).
FLEX_ROUTE_NAMES = (
    "get_flex_cluster",
    "list_flex_restore_jobs",
    "create_flex_restore_job",
    "get_flex_restore_job",
    "list_flex_snapshots",
    "get_flex_snapshot",
    "download_flex_snapshot",
    "flex_snapshot_file",
)
#: Recorded: ``expirationDate`` is ``restoreScheduledDate`` + 6 h.
RESTORE_EXPIRATION_SECONDS = 6 * 3600.0
#: The spec: a ``snapshotUrl`` stays valid four hours after the download request.
SNAPSHOT_URL_SECONDS = 4 * 3600.0
#: Recorded: a flex snapshot expires 8 days after it was scheduled.
SNAPSHOT_RETENTION_SECONDS = 8 * 86_400.0
#: Recorded: snapshots start ~30 s after they were scheduled and finish ~110 s after.
SNAPSHOT_START_SECONDS = 30.0
SNAPSHOT_FINISH_SECONDS = 110.0


@dataclass
class FlexSnapshot:
    """A flex cluster's snapshot (``FlexBackupSnapshot20241113``)."""

    id: str
    group_id: str
    cluster_name: str
    scheduled_at: float
    status: str
    size_bytes: int
    seq: int = 0
    mongodb_version: str = "8.0.29"

    @property
    def finished_at(self) -> float:
        """``finishTime`` (sent once the snapshot is COMPLETED or FAILED)."""
        return self.scheduled_at + SNAPSHOT_FINISH_SECONDS


@dataclass
class FlexSnapshotLink:
    """A ``snapshotUrl`` handed out by ``POST backup/download``: valid until ``expires_at``."""

    token: str
    job_id: str
    filename: str
    archive_name: str
    size: int
    mtime: int
    expires_at: float


@dataclass
class FlexRestoreJob:
    """A flex restore job (``FlexBackupRestoreJob20241113``); ``status(now)`` says where it is."""

    id: str
    group_id: str
    cluster_name: str
    snapshot_id: str
    snapshot_finished_at: float
    created_at: float  # restoreScheduledDate
    ready_after: float
    delivery_type: str = "RESTORE"  # DOWNLOAD for the answers of POST backup/download
    target_deployment_item_name: str | None = None
    target_project_id: str | None = None
    link: FlexSnapshotLink | None = None
    forced_status: str | None = None
    failed_at: float | None = None

    @property
    def ready_at(self) -> float:
        """Clock time at which the job is COMPLETED (its ``restoreFinishedDate``)."""
        return self.created_at + self.ready_after

    def status(self, now: float) -> str:
        """Return the job's ``status`` at clock time ``now``.

        Without a forced status: PENDING for the first quarter of ``ready_after``, QUEUED for
        the second, RUNNING for the rest, then COMPLETED.

        :param now: clock time.
        """
        if self.failed_at is not None and now >= self.failed_at:
            return "FAILED"
        if self.forced_status is not None:
            return self.forced_status
        if now >= self.ready_at:
            return "COMPLETED"
        elapsed = now - self.created_at
        if elapsed < self.ready_after / 4:
            return "PENDING"
        return "QUEUED" if elapsed < self.ready_after / 2 else "RUNNING"

    def force_status(self, status: str, now: float) -> None:
        """Put the job in ``status`` from clock time ``now`` on.

        :param status: one of :data:`FLEX_STATUSES`; COMPLETED finishes it now.
        :param now: clock time.
        :raises ValueError: for a status not in :data:`FLEX_STATUSES`.
        """
        if status not in FLEX_STATUSES:
            raise ValueError(f"a flex restore job's status is one of {FLEX_STATUSES}, not {status!r}")
        self.failed_at = now if status == "FAILED" else None
        if status == "COMPLETED":
            self.forced_status = None
            self.ready_after = max(0.0, now - self.created_at)
        elif status != "FAILED":
            self.forced_status = status


@dataclass
class FlexCluster:
    """A flex cluster with its snapshots and restore jobs."""

    name: str
    group_id: str
    id: str
    created_at: float
    served_by_cluster_api: bool = False  # GET /clusters/{name} answers 200 (spec: until January 2026)
    snapshots: dict[str, FlexSnapshot] = field(default_factory=dict)
    jobs: dict[str, FlexRestoreJob] = field(default_factory=dict)
    job_order: list[str] = field(default_factory=list)  # oldest first

    def snapshots_oldest_first(self) -> list[FlexSnapshot]:
        """Return the snapshots oldest first, the order Atlas lists flex snapshots in."""
        return sorted(self.snapshots.values(), key=lambda snap: (snap.scheduled_at, snap.seq))

    def jobs_newest_first(self) -> list[FlexRestoreJob]:
        """Return the restore jobs newest first, the order Atlas lists flex restore jobs in."""
        return [self.jobs[job_id] for job_id in reversed(self.job_order)]
