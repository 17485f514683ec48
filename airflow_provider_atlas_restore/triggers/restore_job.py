"""A trigger that waits, without blocking the triggerer, until a restore job is done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_object_id
from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient, load_connection_config
from airflow_provider_atlas_restore.client.retry import is_retryable
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.models import WaitStatus, evaluate_restore_job


class AtlasRestoreJobTrigger(BaseTrigger):
    """
    Poll one restore job until its download links are there (or, for automated and
    point-in-time restores, it has finished), it fails, or the time is up.

    Yields exactly one event: ``{"status": "success" | "failure" | "timeout", "message": ...,
    "restore_job_id": ..., "state": ...}``. The event carries no download link: the sensor reads
    fresh links when it resumes, so no secret is stored with the event. The serialized trigger
    holds ids and settings only; the connection (and its keys) is read inside the triggerer.

    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param group_id: the project id.
    :param cluster_name: the cluster name.
    :param restore_job_id: the restore job to watch.
    :param poll_interval: seconds between two looks at the job.
    :param timeout_at: when to give up, as seconds since the epoch; ``None`` waits without end.
    """

    def __init__(
        self,
        *,
        atlas_conn_id: str,
        group_id: str,
        cluster_name: str,
        restore_job_id: str,
        poll_interval: float = 60.0,
        timeout_at: float | None = None,
    ) -> None:
        super().__init__()
        self.atlas_conn_id = atlas_conn_id
        self.group_id = validate_object_id(group_id, "group_id")
        self.cluster_name = validate_cluster_name(cluster_name)
        self.restore_job_id = validate_object_id(restore_job_id, "restore_job_id")
        self.poll_interval = float(poll_interval)
        self.timeout_at = timeout_at

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "atlas_conn_id": self.atlas_conn_id,
                "group_id": self.group_id,
                "cluster_name": self.cluster_name,
                "restore_job_id": self.restore_job_id,
                "poll_interval": self.poll_interval,
                "timeout_at": self.timeout_at,
            },
        )

    def _event(self, status: str, message: str, state: str | None = None) -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "message": message, "restore_job_id": self.restore_job_id, "state": state}
        )

    def _seconds_left(self) -> float | None:
        return None if self.timeout_at is None else self.timeout_at - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job is done or failed, or the time is up; yield one event."""
        try:
            config = await load_connection_config(self.atlas_conn_id)
        except Exception as error:
            yield self._event("failure", f"Cannot read connection {self.atlas_conn_id!r}: {error}")
            return
        started = time.monotonic()
        async with AtlasAsyncClient(config, logger=self.log) as client:
            while True:
                try:
                    job = await client.get_restore_job(self.group_id, self.cluster_name, self.restore_job_id)
                except AtlasApiError as error:
                    if not is_retryable(error):
                        yield self._event("failure", str(error))
                        return
                    self.log.warning(
                        "Restore job %s: no usable answer this time: %s", self.restore_job_id, error
                    )
                else:
                    outcome = evaluate_restore_job(
                        job,
                        cluster_name=self.cluster_name,
                        now=datetime.now(timezone.utc),
                        restore_job_id=self.restore_job_id,
                    )
                    self.log.info("%s Waited %.0f s.", outcome.message, time.monotonic() - started)
                    if outcome.status is WaitStatus.DONE:
                        yield self._event("success", outcome.message, outcome.state.value)
                        return
                    if outcome.status is WaitStatus.FAILED:
                        yield self._event("failure", outcome.message, outcome.state.value)
                        return
                seconds_left = self._seconds_left()
                if seconds_left is not None and seconds_left <= 0:
                    yield self._event(
                        "timeout",
                        f"Restore job {self.restore_job_id} of cluster {self.cluster_name} was not ready "
                        f"after {time.monotonic() - started:.0f} s: the sensor's timeout is reached.",
                    )
                    return
                wait = self.poll_interval if seconds_left is None else min(self.poll_interval, seconds_left)
                await asyncio.sleep(max(wait, 0.0))
