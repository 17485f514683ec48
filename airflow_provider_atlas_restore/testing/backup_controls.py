"""What a test does to on-demand snapshots, export buckets and jobs, and collection restore jobs."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.testing.backup_payloads import (
    render_any_snapshot,
    render_bucket,
    render_collection_restore_job,
    render_export_job,
    render_restored_collection,
)
from airflow_provider_atlas_restore.testing.backup_records import (
    COLLECTION_STATES,
    EXPORT_STATES,
    BackupTimings,
    OnDemandSnapshot,
)
from airflow_provider_atlas_restore.testing.backup_state import DATABASE_COLLECTIONS, BackupStore
from airflow_provider_atlas_restore.testing.payloads import View
from airflow_provider_atlas_restore.testing.state import Store

__all__ = ["BackupControls"]


class BackupControls:
    """The backup methods of :class:`~.emulator.AtlasEmulator` (its ``store``, ``clock``, ``base_url``)."""

    store: Store
    clock: Any

    def _view(self) -> View:
        raise NotImplementedError

    @property
    def _backups(self) -> BackupStore:
        return self.store.backups

    @property
    def backup_timings(self) -> BackupTimings:
        """Phase lengths (clock seconds) of snapshots, exports and collection restores created over HTTP."""
        return self._backups.timings

    # -- on-demand snapshots -------------------------------------------------------------
    def add_on_demand_snapshot(
        self,
        group_id: str,
        cluster_name: str,
        *,
        description: str | None = None,
        retention_in_days: int = 1,
        queued_seconds: float | None = None,
        in_progress_seconds: float | None = None,
        size_bytes: int = 10_000,
        one_at_a_time: bool = True,
    ) -> dict[str, Any]:
        """Take an on-demand snapshot as ``POST .../backup/snapshots`` would; return its JSON now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param description: its description.
        :param retention_in_days: days it is kept.
        :param queued_seconds: clock seconds ``queued``; :attr:`backup_timings` when None.
        :param in_progress_seconds: clock seconds ``inProgress``; :attr:`backup_timings` when None.
        :param size_bytes: ``storageSizeBytes`` once completed.
        :param one_at_a_time: refuse (400) while another on-demand snapshot runs, as Atlas does.
        """
        snap = self._backups.take_snapshot(
            group_id,
            cluster_name,
            description=description,
            retention_in_days=retention_in_days,
            queued_seconds=queued_seconds,
            in_progress_seconds=in_progress_seconds,
            size_bytes=size_bytes,
            one_at_a_time=one_at_a_time,
        )
        return self.snapshot(group_id, cluster_name, snap.id)

    def snapshot(self, group_id: str, cluster_name: str, snapshot_id: str) -> dict[str, Any]:
        """Return a snapshot's JSON as a v2 GET would show it now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: snapshot id.
        """
        with self.store.lock:
            return render_any_snapshot(self.store.snapshot(group_id, cluster_name, snapshot_id), self._view())

    def _on_demand(self, group_id: str, cluster_name: str, snapshot_id: str) -> OnDemandSnapshot:
        snap = self.store.snapshot(group_id, cluster_name, snapshot_id)
        if not isinstance(snap, OnDemandSnapshot):
            raise ValueError(f"snapshot {snapshot_id} is not an on-demand snapshot")
        return snap

    def fail_snapshot(self, group_id: str, cluster_name: str, snapshot_id: str) -> None:
        """Make an on-demand snapshot ``failed`` from now on.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: the on-demand snapshot.
        """
        with self.store.lock:
            self._on_demand(group_id, cluster_name, snapshot_id).force("failed", self.clock.now())

    def complete_snapshot(self, group_id: str, cluster_name: str, snapshot_id: str) -> None:
        """Make an on-demand snapshot ``completed`` now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: the on-demand snapshot.
        """
        with self.store.lock:
            self._on_demand(group_id, cluster_name, snapshot_id).force("completed", self.clock.now())

    # -- export buckets and jobs ---------------------------------------------------------
    def add_export_bucket(
        self,
        group_id: str,
        bucket_name: str,
        cloud_provider: str = "AWS",
        *,
        role_id: str | None = None,
        require_private_networking: bool = False,
    ) -> dict[str, Any]:
        """Create an export bucket and return its JSON as the GET of one shows it (``_id``, ``region``).

        :param group_id: project id.
        :param bucket_name: the bucket or container name (3 to 63 characters).
        :param cloud_provider: ``AWS``, ``AZURE`` or ``GCP``.
        :param role_id: the access role id; generated when None.
        :param require_private_networking: AWS only.
        """
        bucket = self._backups.add_bucket(
            group_id,
            bucket_name,
            cloud_provider,
            role_id=role_id,
            require_private_networking=require_private_networking,
        )
        return render_bucket(bucket, with_region=True)

    def add_export_buckets(self, group_id: str, count: int, bucket_name: str = "stale-bucket") -> list[str]:
        """Create many buckets of one name (a project can hold thousands); return their ids.

        :param group_id: project id.
        :param count: how many.
        :param bucket_name: their name.
        """
        return [self._backups.add_bucket(group_id, bucket_name).id for _ in range(count)]

    def add_export_job(
        self,
        group_id: str,
        cluster_name: str,
        snapshot_id: str,
        export_bucket_id: str,
        *,
        custom_data: list[dict[str, str]] | None = None,
        queued_seconds: float | None = None,
        in_progress_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Export a completed snapshot into a bucket, as ``POST .../backup/exports`` would; return its JSON now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: the completed snapshot.
        :param export_bucket_id: the bucket's ``_id``.
        :param custom_data: ``[{"key", "value"}]``.
        :param queued_seconds: clock seconds ``Queued``; :attr:`backup_timings` when None.
        :param in_progress_seconds: clock seconds ``InProgress``; :attr:`backup_timings` when None.
        """
        job = self._backups.add_export_job(
            group_id,
            cluster_name,
            snapshot_id,
            export_bucket_id,
            custom_data=custom_data,
            queued_seconds=queued_seconds,
            in_progress_seconds=in_progress_seconds,
        )
        return self.export_job(group_id, cluster_name, job.id)

    def export_job(self, group_id: str, cluster_name: str, export_id: str) -> dict[str, Any]:
        """Return an export job's JSON as a GET would show it now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param export_id: export job id.
        """
        with self.store.lock:
            return render_export_job(
                self._backups.export_job(group_id, cluster_name, export_id), self._view()
            )

    def set_export_job_state(
        self,
        group_id: str,
        cluster_name: str,
        export_id: str,
        state: str,
        *,
        error_code: str | None = None,
        message: str | None = None,
    ) -> None:
        """End an export job now: ``Successful``, ``Failed`` or ``Cancelled`` (with a ``stateReason``).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param export_id: export job id.
        :param state: the final state.
        :param error_code: ``stateReason.errorCode`` of a failed or cancelled job.
        :param message: ``stateReason.message`` of a failed or cancelled job.
        """
        if state not in EXPORT_STATES[2:]:
            raise ValueError(f"an export job can be ended as one of {EXPORT_STATES[2:]}, not {state!r}")
        with self.store.lock:
            job = self._backups.export_job(group_id, cluster_name, export_id)
            job.forced_state, job.forced_at = state, self.clock.now()
            if state != "Successful":
                job.state_reason = {
                    "errorCode": error_code or "EXPORT_FAILED",
                    "message": message or f"The export job was {state.lower()}.",
                }

    def fail_export_job(
        self, group_id: str, cluster_name: str, export_id: str, message: str = "Export failed."
    ) -> None:
        """``set_export_job_state(..., "Failed", message=message)``.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param export_id: export job id.
        :param message: ``stateReason.message``.
        """
        self.set_export_job_state(group_id, cluster_name, export_id, "Failed", message=message)

    # -- collection restore jobs ---------------------------------------------------------
    def add_collection_restore_job(
        self,
        group_id: str,
        cluster_name: str,
        request: dict[str, Any],
        *,
        initializing_seconds: float | None = None,
        in_progress_seconds: float | None = None,
        finalizing_seconds: float | None = None,
        database_collections: tuple[str, ...] = DATABASE_COLLECTIONS,
    ) -> dict[str, Any]:
        """Start a collection restore from a create body (not validated); return its JSON now.

        :param group_id: project id of the source cluster.
        :param cluster_name: the source cluster.
        :param request: the create body, with Atlas's field names.
        :param initializing_seconds: clock seconds ``INITIALIZING``; :attr:`backup_timings` when None.
        :param in_progress_seconds: clock seconds ``IN_PROGRESS``; :attr:`backup_timings` when None.
        :param finalizing_seconds: clock seconds ``FINALIZING``; :attr:`backup_timings` when None.
        :param database_collections: the collections each restored database holds.
        """
        job = self._backups.add_collection_restore_job(
            group_id,
            cluster_name,
            request,
            initializing_seconds=initializing_seconds,
            in_progress_seconds=in_progress_seconds,
            finalizing_seconds=finalizing_seconds,
            database_collections=database_collections,
        )
        return self.collection_restore_job(group_id, cluster_name, job.id)

    def collection_restore_job(self, group_id: str, cluster_name: str, job_id: str) -> dict[str, Any]:
        """Return a collection restore job's JSON as a GET would show it now.

        :param group_id: project id.
        :param cluster_name: the source cluster.
        :param job_id: job id.
        """
        with self.store.lock:
            job = self._backups.collection_restore_job(group_id, cluster_name, job_id)
            return render_collection_restore_job(job, self._view())

    def restored_collections(self, group_id: str, cluster_name: str, job_id: str) -> list[dict[str, Any]]:
        """Return every collection state of a job as ``.../collections`` lists them now (empty while initializing).

        :param group_id: project id.
        :param cluster_name: the source cluster.
        :param job_id: job id.
        """
        with self.store.lock:
            job = self._backups.collection_restore_job(group_id, cluster_name, job_id)
            view = self._view()
            if job.state(view.now) == "INITIALIZING":
                return []
            return [render_restored_collection(job, item, view) for item in job.collections]

    def fail_collection_restore_job(
        self,
        group_id: str,
        cluster_name: str,
        job_id: str,
        error_message: str = "The collection restore failed.",
        *,
        collection_states: dict[str, str] | None = None,
        state: str = "FAILED",
    ) -> None:
        """End a collection restore now as ``FAILED`` (or ``CANCELED``) with ``errorMessage``.

        :param group_id: project id.
        :param cluster_name: the source cluster.
        :param job_id: job id.
        :param error_message: the job's ``errorMessage``.
        :param collection_states: states to show per source namespace (others follow the progress:
            restored ones ``SUCCESSFUL``, the one under way ``FAILED``, the rest ``NOT_RESTORED``).
        :param state: ``FAILED`` or ``CANCELED``.
        """
        if state not in ("FAILED", "CANCELED"):
            raise ValueError(f"a collection restore can be ended as FAILED or CANCELED, not {state!r}")
        with self.store.lock:
            job = self._backups.collection_restore_job(group_id, cluster_name, job_id)
            known = {item.source_namespace: item for item in job.collections}
            for namespace, collection_state in (collection_states or {}).items():
                if namespace not in known or collection_state not in COLLECTION_STATES:
                    raise ValueError(f"unknown collection {namespace!r} or state {collection_state!r}")
                known[namespace].forced_state = collection_state
            job.forced_state, job.forced_at, job.error_message = state, self.clock.now(), error_message

    def finish_collection_restore_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """Make a collection restore ``SUCCESSFUL`` now, every document restored.

        :param group_id: project id.
        :param cluster_name: the source cluster.
        :param job_id: job id.
        """
        with self.store.lock:
            job = self._backups.collection_restore_job(group_id, cluster_name, job_id)
            elapsed = max(0.0, self.clock.now() - job.created_at)
            job.initializing_seconds = min(job.initializing_seconds, elapsed)
            job.in_progress_seconds = min(job.in_progress_seconds, elapsed - job.initializing_seconds)
            job.finalizing_seconds = min(
                job.finalizing_seconds, elapsed - job.initializing_seconds - job.in_progress_seconds
            )
