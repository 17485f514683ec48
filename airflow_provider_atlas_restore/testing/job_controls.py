"""What a test does to restore jobs that exist: read them, finish, fail, cancel, expire, remove."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.testing.payloads import View, download_url, render_job
from airflow_provider_atlas_restore.testing.records import JobState, StoredRestoreJob
from airflow_provider_atlas_restore.testing.state import Store

__all__ = ["JobControls"]


class JobControls:
    """The job methods of :class:`~.emulator.AtlasEmulator` (its ``store``, ``clock``, ``base_url``)."""

    store: Store
    clock: Any

    @property
    def base_url(self) -> str:
        """The server's base URL (the emulator's own)."""
        raise NotImplementedError

    def _view(self) -> View:
        return View(self.base_url, "v2", self.clock.now())

    def _job(self, group_id: str, cluster_name: str, job_id: str) -> StoredRestoreJob:
        return self.store.job(group_id, cluster_name, job_id)

    def restore_job(self, group_id: str, cluster_name: str, job_id: str) -> dict[str, Any]:
        """Return a job's JSON as a v2 GET would show it now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        with self.store.lock:
            return render_job(self._job(group_id, cluster_name, job_id), self._view())

    def download_urls(self, group_id: str, cluster_name: str, job_id: str) -> list[str]:
        """Return a download job's URLs, whether or not the job is ready yet.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        with self.store.lock:
            return [
                download_url(self.base_url, link) for link in self._job(group_id, cluster_name, job_id).links
            ]

    def private_download_urls(
        self, group_id: str, cluster_name: str, job_id: str, endpoint_id: str | None = None
    ) -> list[str]:
        """Return a download job's private-endpoint URLs (of one endpoint, or all), ready or not.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        :param endpoint_id: only this endpoint's links; every endpoint's when None.
        """
        with self.store.lock:
            job = self._job(group_id, cluster_name, job_id)
            return [
                download_url(self.base_url, link)
                for link in job.private_links
                if endpoint_id is None or link.endpoint_id == endpoint_id
            ]

    def set_job_state(self, group_id: str, cluster_name: str, job_id: str, state: JobState) -> None:
        """Put a job in ``state`` from now on (cancelling skips a DELETE's checks).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        :param state: ``ready`` (download jobs) or ``finished`` (others): the wait ends now;
            ``failed``: ``failed: true``; ``cancelled``: ``cancelled: true``; ``expired``:
            ``expired: true``, its download URLs gone (410).
        :raises ValueError: for ``pending``, or ``ready`` / ``finished`` on the other kind of job.
        """
        with self.store.lock:
            self._job(group_id, cluster_name, job_id).force_state(state, self.clock.now())

    def finish_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """Make a pending job ready (download) or finished (others) now.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        with self.store.lock:
            job = self._job(group_id, cluster_name, job_id)
            job.force_state("ready" if job.delivery_type == "download" else "finished", self.clock.now())

    def fail_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """``set_job_state(..., "failed")``.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        self.set_job_state(group_id, cluster_name, job_id, "failed")

    def cancel_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """``set_job_state(..., "cancelled")``: as a DELETE would, without its checks.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        self.set_job_state(group_id, cluster_name, job_id, "cancelled")

    def expire_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """``set_job_state(..., "expired")``: its download URLs gone (410).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        self.set_job_state(group_id, cluster_name, job_id, "expired")

    def remove_job(self, group_id: str, cluster_name: str, job_id: str) -> None:
        """Delete a job (later GETs answer 404 RESOURCE_NOT_FOUND).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job id.
        """
        self.store.remove_job(group_id, cluster_name, job_id)
