"""A trigger that waits, without blocking the triggerer, until a restore job (dedicated or flex) is done."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.api.validation import (
    validate_choice,
    validate_cluster_name,
    validate_object_id,
)
from airflow_provider_atlas_restore.api.watched_resources import WatchedRestoreJob
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind
from airflow_provider_atlas_restore.triggers.polling import AtlasPollingTrigger

__all__ = ["AtlasRestoreJobTrigger", "WatchedRestoreJob"]
_KINDS = tuple(kind.value for kind in ClusterKind)


class AtlasRestoreJobTrigger(AtlasPollingTrigger):
    """
    Poll one restore job until its download links are there (or, for automated and
    point-in-time restores and flex jobs, it has finished), it fails, or the time is up.

    Yields exactly one event: ``{"status": "success" | "failure" | "timeout", "message": ...,
    "restore_job_id": ..., "cluster_kind": ..., "state": ...}``. The event carries no download
    link: the sensor reads fresh links when it resumes, so no secret is stored with the event.
    The serialized trigger holds ids, the cluster kind the task found (the triggerer does no
    detection) and settings only; the connection (and its keys) is read inside the triggerer.

    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param group_id: the project id.
    :param cluster_name: the cluster name.
    :param restore_job_id: the restore job to watch.
    :param poll_interval: seconds between two looks at the job.
    :param timeout_at: when to give up, as seconds since the epoch; ``None`` waits without end.
    :param cluster_kind: ``"dedicated"`` (default) or ``"flex"``: which API family holds the job.
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
        cluster_kind: str = ClusterKind.DEDICATED.value,
    ) -> None:
        super().__init__(atlas_conn_id=atlas_conn_id, poll_interval=poll_interval, timeout_at=timeout_at)
        self.group_id = validate_object_id(group_id, "group_id")
        self.cluster_name = validate_cluster_name(cluster_name)
        self.restore_job_id = validate_object_id(restore_job_id, "restore_job_id")
        self.cluster_kind = validate_choice(cluster_kind, "cluster_kind", _KINDS)

    def watched(self) -> WatchedRestoreJob:
        """Return the job this trigger waits for."""
        return WatchedRestoreJob(self.group_id, self.cluster_name, self.restore_job_id, self.cluster_kind)

    def event_fields(self) -> dict[str, Any]:
        """Return the job id and the cluster kind, which the resuming task reuses."""
        return {"restore_job_id": self.restore_job_id, "cluster_kind": self.cluster_kind}

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
                "cluster_kind": self.cluster_kind,
            },
        )
