"""
Deprecated path of the wait verdict, now in :mod:`airflow_provider_atlas_restore.models`; it goes away in the next release.

Kept so existing imports work; :func:`restore_job_result` is
:meth:`~airflow_provider_atlas_restore.models.RestoreJobResult.to_xcom` of a job just read.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.models.result import RestoreJobResult
from airflow_provider_atlas_restore.models.wait import WaitOutcome, WaitStatus, evaluate_restore_job

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["WaitOutcome", "WaitStatus", "evaluate_restore_job", "restore_job_result"]

warnings.warn(
    "airflow_provider_atlas_restore.restore_job_wait is deprecated: import from "
    "airflow_provider_atlas_restore.models (RestoreJobResult.from_job(...).to_xcom() for restore_job_result).",
    DeprecationWarning,
    stacklevel=2,
)


def restore_job_result(
    job: Mapping[str, Any], *, restore_job_id: str, cluster_name: str, group_id: str
) -> dict[str, Any]:
    """
    Return the XCom dict a finished wait hands downstream: ``RestoreJobResult.from_job(...).to_xcom()``.

    :param job: the restore job as Atlas returned it.
    :param restore_job_id: the validated id of the job that was read.
    :param cluster_name: the job's cluster.
    :param group_id: the job's project.
    """
    return RestoreJobResult.from_job(
        job, restore_job_id=restore_job_id, cluster_name=cluster_name, group_id=group_id
    ).to_xcom()
