"""What a test does with flex clusters: add clusters, snapshots and jobs; read, finish, fail, remove jobs.

A mixin of :class:`~.emulator.AtlasEmulator`, placed before :class:`~.job_controls.JobControls`:
the job controls (``restore_job``, ``set_job_state``, ``finish_job``, ``fail_job``,
``remove_job``) take flex jobs with the same arguments and act on the flex job when the cluster
is a flex cluster.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.testing.flex_downloads import flex_archive
from airflow_provider_atlas_restore.testing.flex_payloads import (
    flex_snapshot_url,
    render_flex_cluster,
    render_flex_job,
    render_flex_snapshot,
)
from airflow_provider_atlas_restore.testing.job_controls import JobControls
from airflow_provider_atlas_restore.testing.records import JobState
from airflow_provider_atlas_restore.testing.tarball import Tarball

__all__ = ["FlexControls"]

#: What the dedicated job states mean for a flex job.
_FLEX_STATUS_OF_STATE = {"ready": "COMPLETED", "finished": "COMPLETED", "failed": "FAILED"}


class FlexControls(JobControls):
    """The flex methods of :class:`~.emulator.AtlasEmulator`."""

    def add_flex_cluster(
        self, group_id: str, name: str, *, served_by_cluster_api: bool = False
    ) -> dict[str, Any]:
        """Create a flex cluster and return its JSON as ``GET /flexClusters/{name}`` shows it.

        The cluster API answers 400 ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API`` for it, except
        ``GET /clusters/{name}`` when ``served_by_cluster_api``.

        :param group_id: project id.
        :param name: cluster name (shared namespace with dedicated clusters).
        :param served_by_cluster_api: ``GET /clusters/{name}`` describes it (200), as the spec
            says the cluster API does for some flex clusters until January 2026.
        """
        cluster = self.store.flex.add_cluster(group_id, name, served_by_cluster_api)
        return render_flex_cluster(cluster, self._view())

    def add_flex_snapshot(
        self,
        group_id: str,
        name: str,
        status: str = "COMPLETED",
        created_at: float | None = None,
        size_bytes: int = 10_000,
    ) -> dict[str, Any]:
        """Create a flex snapshot and return its JSON.

        :param group_id: project id.
        :param name: flex cluster name.
        :param status: ``PENDING``, ``QUEUED``, ``RUNNING``, ``COMPLETED`` or ``FAILED``.
        :param created_at: its ``scheduledTime``, epoch seconds; clock time when None.
        :param size_bytes: size of the ``.tgz`` its ``snapshotUrl`` serves.
        """
        snap = self.store.flex.add_snapshot(group_id, name, status, created_at, size_bytes)
        return render_flex_snapshot(snap, self._view())

    def add_flex_restore_job(
        self,
        group_id: str,
        name: str,
        snapshot_id: str | None = None,
        ready_after: float = 0.0,
        *,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a flex restore job directly and return its current JSON.

        :param group_id: project id.
        :param name: source flex cluster.
        :param snapshot_id: snapshot; the newest completed one (made if none) when None.
        :param ready_after: clock seconds until COMPLETED (PENDING, QUEUED, RUNNING before).
        :param target_cluster_name: ``targetDeploymentItemName`` (default: the source cluster).
        :param target_group_id: ``targetProjectId`` (default: the source project).
        """
        job = self.store.flex.add_job(
            group_id,
            name,
            snapshot_id,
            ready_after,
            target_cluster_name=target_cluster_name,
            target_group_id=target_group_id,
        )
        return render_flex_job(job, self._view())

    def flex_snapshot_archive(self, group_id: str, name: str, job_id: str) -> Tarball:
        """Return the archive the ``snapshotUrl`` of a download answer serves (for its sha256).

        :param group_id: project id.
        :param name: flex cluster name.
        :param job_id: the id of the ``POST backup/download`` answer.
        """
        with self.store.lock:
            link = self.store.flex.job(group_id, name, job_id).link
            if link is None:
                raise ValueError(f"flex job {job_id} has no snapshotUrl: it is not a download")
            return flex_archive(link)

    def flex_snapshot_urls(self, group_id: str, name: str) -> list[str]:
        """Return every ``snapshotUrl`` handed out for a flex cluster, oldest first, expired or not.

        :param group_id: project id.
        :param name: flex cluster name.
        """
        with self.store.lock:
            jobs = self.store.flex.cluster(group_id, name).jobs_newest_first()
            return [flex_snapshot_url(self.base_url, job.link) for job in reversed(jobs) if job.link]

    # -- the job controls, for flex jobs too ----------------------------------------------
    def restore_job(self, group_id: str, cluster_name: str, job_id: str) -> dict[str, Any]:
        """Return a job's JSON as a v2 GET would show it now (flex or dedicated).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        with self.store.lock:
            if self.store.flex.is_flex(group_id, cluster_name):
                return render_flex_job(self.store.flex.job(group_id, cluster_name, job_id), self._view())
            return super().restore_job(group_id, cluster_name, job_id)

    def set_job_state(self, group_id: str, cluster_name: str, job_id: str, state: JobState | str) -> None:
        """Put a job in ``state`` from now on; for a flex job a flex ``status`` or ``ready``/``finished``/``failed``.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        :param state: dedicated: see :meth:`JobControls.set_job_state`; flex: ``PENDING``,
            ``QUEUED``, ``RUNNING``, ``COMPLETED`` or ``FAILED`` (``ready`` and ``finished``
            mean COMPLETED, ``failed`` FAILED).
        :raises ValueError: for a state the job's family does not have (a flex job cannot be
            cancelled or expired).
        """
        with self.store.lock:
            if not self.store.flex.is_flex(group_id, cluster_name):
                super().set_job_state(group_id, cluster_name, job_id, state)  # type: ignore[arg-type]
                return
            job = self.store.flex.job(group_id, cluster_name, job_id)
            job.force_status(_FLEX_STATUS_OF_STATE.get(state, state), self.clock.now())

    def finish_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """Make a pending job ready (download), finished (others) or COMPLETED (flex) now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        if self.store.flex.is_flex(group_id, cluster_name):
            self.set_job_state(group_id, cluster_name, job_id, "COMPLETED")
        else:
            super().finish_job(group_id, cluster_name, job_id)

    def remove_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """Delete a job, flex or dedicated (later GETs answer 404 RESOURCE_NOT_FOUND).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        if self.store.flex.is_flex(group_id, cluster_name):
            self.store.flex.remove_job(group_id, cluster_name, job_id)
        else:
            super().remove_job(group_id, cluster_name, job_id)
