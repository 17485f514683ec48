"""
Whether a restore job is done, failed or still pending: the rules the sensor and trigger share.

A download job is done when its links are there (``deliveryUrl`` non-empty and, on a sharded
cluster, every ``components[].downloadUrl``); an automated or point-in-time job when
``finishedAt`` is set. Failed, cancelled and expired jobs, and downloads whose ``expiresAt`` has
passed, will never get there. A flex cluster's job says where it is in ``status``: ``COMPLETED``
is done, ``FAILED`` failed, anything else pending.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.models.resource_state import ResourceState
from airflow_provider_atlas_restore.models.restore_job_state import RestoreJobState

if TYPE_CHECKING:
    from collections.abc import Mapping


class WaitStatus(str, enum.Enum):
    """Where waiting for a restore job stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class WaitOutcome:
    """
    The verdict on one look at a restore job.

    :param status: pending, done or failed.
    :param state: the resource's state: a restore job's derived state, or the state Atlas sent
        for a snapshot, export job or collection restore job.
    :param message: a sentence for the log or the failure, naming the resource, cluster and state.
    """

    status: WaitStatus
    state: RestoreJobState | ResourceState
    message: str


def evaluate_restore_job(
    job: Mapping[str, Any], *, cluster_name: str, now: datetime, restore_job_id: str | None = None
) -> WaitOutcome:
    """
    Decide whether waiting for ``job`` is over, and how.

    :param job: the restore job as Atlas returned it.
    :param cluster_name: the job's cluster, for the message.
    :param now: the current time (aware, UTC), to see a passed ``expiresAt``.
    :param restore_job_id: the validated id the job was asked for, named in the message rather
        than the id the server echoed.
    """
    # Imported here: the snapshot, export and collection restore models share this module.
    from airflow_provider_atlas_restore.models.restore_job import RestoreJob

    view = RestoreJob.from_api(job)
    state = view.state
    what = f"Restore job {restore_job_id or view.id} of cluster {cluster_name}"
    if state.is_failure:
        return WaitOutcome(WaitStatus.FAILED, state, f"{what} is {state.value}: it will never be ready.")
    expires_at = view.expires_at
    if expires_at is not None and expires_at <= now and view.is_download:
        return WaitOutcome(
            WaitStatus.FAILED,
            RestoreJobState.EXPIRED,
            f"{what} is expired: its download links expired at {expires_at.isoformat()}.",
        )
    if state.is_success:
        return WaitOutcome(WaitStatus.DONE, state, f"{what} is {state.value}.")
    waiting_for = "download links" if view.is_download else "the restore to finish"
    if view.is_flex:
        waiting_for += f" (status {view.status})"
    ready_parts = sum(1 for component in view.components if component.download_url)
    if view.components and view.is_download:
        waiting_for += f" ({ready_parts} of {len(view.components)} replica sets ready)"
    return WaitOutcome(WaitStatus.PENDING, state, f"{what} is {state.value}, waiting for {waiting_for}.")
