"""The records of on-demand snapshots, export buckets, export jobs and collection restore jobs.

Like restore jobs, none of them stores its state: each derives it from the clock (phases of
given lengths after its creation), unless a test forced a final state on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_atlas_restore.testing.records import Snapshot

__all__ = [
    "BUCKET_PROVIDERS",
    "COLLECTION_RESTORE_STATES",
    "COLLECTION_STATES",
    "EXPORT_STATES",
    "BackupTimings",
    "ExportBucket",
    "OnDemandSnapshot",
    "RestoredCollection",
    "StoredCollectionRestoreJob",
    "StoredExportJob",
    "phase_at",
]

BUCKET_PROVIDERS = ("AWS", "AZURE", "GCP")
EXPORT_STATES = ("Queued", "InProgress", "Successful", "Failed", "Cancelled")
COLLECTION_RESTORE_STATES = ("INITIALIZING", "IN_PROGRESS", "FINALIZING", "SUCCESSFUL", "CANCELED", "FAILED")
COLLECTION_STATES = (
    *("NOT_STARTED", "IN_PROGRESS", "FINALIZING", "ROLLBACK", "SUCCESSFUL", "NOT_FOUND"),
    *("UNSUPPORTED", "NOT_RESTORED", "FAILED", "INDEX_BUILD_FAILED"),
)
_DAY = 86_400.0


def phase_at(phases: Sequence[tuple[str, float]], final: str, elapsed: float) -> str:
    """Return the phase ``elapsed`` seconds after the start, or ``final`` once all have passed.

    :param phases: ``(name, seconds)`` in order.
    :param final: the state after the last phase.
    :param elapsed: clock seconds since the start.
    """
    for name, seconds in phases:
        if elapsed < seconds:
            return name
        elapsed -= seconds
    return final


@dataclass
class BackupTimings:
    """Clock seconds each phase lasts for resources created over HTTP (0: over at the first poll)."""

    snapshot_queued: float = 0.0
    snapshot_in_progress: float = 0.0
    export_queued: float = 0.0
    export_in_progress: float = 0.0
    collection_restore_initializing: float = 0.0
    collection_restore_in_progress: float = 0.0
    collection_restore_finalizing: float = 0.0


@dataclass
class OnDemandSnapshot(Snapshot):
    """A snapshot taken on request: ``queued``, then ``inProgress``, then ``completed`` on the clock.

    ``status``, ``created_at`` and ``size_bytes`` (the base fields) are brought to the clock's
    time by :meth:`settle`, which the store calls before any read of the cluster.
    """

    requested_at: float = 0.0
    queued_seconds: float = 0.0
    in_progress_seconds: float = 0.0
    retention_seconds_set: float = _DAY
    final_size_bytes: int = 10_000
    failed_at: float | None = None
    expires_override: float | None = None

    @property
    def started_at(self) -> float:
        """Clock time the snapshot is taken (``createdAt`` once completed)."""
        return self.requested_at + self.queued_seconds

    @property
    def completed_at(self) -> float:
        """Clock time it completes."""
        return self.started_at + self.in_progress_seconds

    def status_at(self, now: float) -> str:
        """Return ``queued``, ``inProgress``, ``completed`` or ``failed`` at clock time ``now``.

        :param now: clock time.
        """
        if self.failed_at is not None and now >= self.failed_at:
            return "failed"
        phases = (("queued", self.queued_seconds), ("inProgress", self.in_progress_seconds))
        return phase_at(phases, "completed", now - self.requested_at)

    def settle(self, now: float) -> None:
        """Bring ``status``, ``created_at`` and ``size_bytes`` to clock time ``now``.

        :param now: clock time.
        """
        self.status = self.status_at(now)
        done = self.status == "completed"
        self.created_at = self.started_at if done else self.requested_at
        self.size_bytes = self.final_size_bytes if done else 0

    def expires_at(self) -> float:
        """Request time + retention until completed, then completion time + retention (as recorded)."""
        if self.expires_override is not None:
            return self.expires_override
        start = self.completed_at if self.status == "completed" else self.requested_at
        return start + self.retention_seconds_set

    def force(self, status: str, now: float) -> None:
        """Make the snapshot ``failed`` or ``completed`` from clock time ``now`` on.

        :param status: ``failed`` or ``completed``.
        :param now: clock time.
        """
        if status == "failed":
            self.failed_at = now
        elif status == "completed":
            self.failed_at = None
            elapsed = max(0.0, now - self.requested_at)
            self.queued_seconds = min(self.queued_seconds, elapsed)
            self.in_progress_seconds = min(self.in_progress_seconds, elapsed - self.queued_seconds)
        else:
            raise ValueError(f"an on-demand snapshot can be forced to failed or completed, not {status!r}")
        self.settle(now)


@dataclass
class ExportBucket:
    """An export bucket of a project (``_id`` in answers)."""

    id: str
    group_id: str
    bucket_name: str
    cloud_provider: str
    role_id: str
    require_private_networking: bool = False
    region: str = "us-east-1"
    service_url: str | None = None
    tenant_id: str | None = None


@dataclass
class StoredExportJob:
    """An export of one snapshot into a bucket: ``Queued``, ``InProgress``, ``Successful``."""

    id: str
    group_id: str
    cluster_name: str
    snapshot_id: str
    export_bucket_id: str
    prefix: str
    created_at: float
    queued_seconds: float = 0.0
    in_progress_seconds: float = 0.0
    custom_data: list[dict[str, Any]] = field(default_factory=list)
    components: list[tuple[str, str]] = field(default_factory=list)  # (replicaSetName, exportId)
    forced_state: str | None = None
    forced_at: float = 0.0
    state_reason: dict[str, str] | None = None

    def state(self, now: float) -> str:
        """Return the state at clock time ``now``.

        :param now: clock time.
        """
        if self.forced_state is not None and now >= self.forced_at:
            return self.forced_state
        phases = (("Queued", self.queued_seconds), ("InProgress", self.in_progress_seconds))
        return phase_at(phases, "Successful", now - self.created_at)

    def finished_at(self, now: float) -> float | None:
        """Return when the job ended, or None while it runs.

        :param now: clock time.
        """
        if self.forced_state is not None and now >= self.forced_at:
            return self.forced_at
        if self.state(now) == "Successful":
            return self.created_at + self.queued_seconds + self.in_progress_seconds
        return None


@dataclass
class RestoredCollection:
    """One collection of a collection restore job, with its share of the documents."""

    source_namespace: str
    target_namespace: str
    effective_target_namespace: str
    total_documents: int
    forced_state: str | None = None


@dataclass
class StoredCollectionRestoreJob:
    """A collection-level restore: ``INITIALIZING``, ``IN_PROGRESS``, ``FINALIZING``, ``SUCCESSFUL``.

    During ``IN_PROGRESS`` the collections are restored one after the other, each taking a share
    of the phase proportional to its documents.
    """

    id: str
    group_id: str
    cluster_name: str
    created_at: float
    request: dict[str, Any]
    collections: list[RestoredCollection]
    initializing_seconds: float = 0.0
    in_progress_seconds: float = 0.0
    finalizing_seconds: float = 0.0
    forced_state: str | None = None
    forced_at: float = 0.0
    error_message: str | None = None

    @property
    def total_documents(self) -> int:
        """Documents of every collection."""
        return sum(c.total_documents for c in self.collections)

    def state(self, now: float) -> str:
        """Return the job's state at clock time ``now``.

        :param now: clock time.
        """
        if self.forced_state is not None and now >= self.forced_at:
            return self.forced_state
        phases = (
            ("INITIALIZING", self.initializing_seconds),
            ("IN_PROGRESS", self.in_progress_seconds),
            ("FINALIZING", self.finalizing_seconds),
        )
        return phase_at(phases, "SUCCESSFUL", now - self.created_at)

    def finished_at(self, now: float) -> float | None:
        """Return when the job ended, or None while it runs.

        :param now: clock time.
        """
        if self.forced_state is not None and now >= self.forced_at:
            return self.forced_at
        if self.state(now) == "SUCCESSFUL":
            return (
                self.created_at
                + self.initializing_seconds
                + self.in_progress_seconds
                + self.finalizing_seconds
            )
        return None

    def _restored_before(self, moment: float) -> float:
        """Documents restored by clock time ``moment`` (fractional), ignoring a forced state."""
        start = self.created_at + self.initializing_seconds
        if moment <= start:
            return 0.0
        if self.in_progress_seconds <= 0 or moment >= start + self.in_progress_seconds:
            return float(self.total_documents)
        return self.total_documents * (moment - start) / self.in_progress_seconds

    def restored_documents(self, now: float) -> int:
        """Documents restored at clock time ``now`` (frozen at a forced end).

        :param now: clock time.
        """
        moment = min(now, self.forced_at) if self.forced_state is not None and now >= self.forced_at else now
        return int(self._restored_before(moment))

    def collection_progress(self, collection: RestoredCollection, now: float) -> tuple[str, int]:
        """Return one collection's ``(state, restoredDocuments)`` at clock time ``now``.

        :param collection: one of :attr:`collections`.
        :param now: clock time.
        """
        restored = self.restored_documents(now)
        before = 0
        for item in self.collections:
            if item is collection:
                break
            before += item.total_documents
        own = max(0, min(collection.total_documents, restored - before))
        job_state = self.state(now)
        if collection.forced_state is not None:
            return collection.forced_state, own
        if job_state == "SUCCESSFUL":
            return "SUCCESSFUL", collection.total_documents
        if job_state in ("FAILED", "CANCELED"):
            if own >= collection.total_documents:
                return "SUCCESSFUL", own
            return ("FAILED" if own > 0 else "NOT_RESTORED"), own
        if own >= collection.total_documents:
            return "FINALIZING", own
        started = own > 0 or (job_state == "IN_PROGRESS" and restored >= before)
        return ("IN_PROGRESS" if started else "NOT_STARTED"), own
