"""
Typed views of what Atlas returns and what the tasks hand each other (XCom), with no I/O.

- :mod:`.restore_job`: a restore job read leniently from the API, its state and secret links.
- :mod:`.wait`: whether waiting for a job is over (the sensor and the trigger share it).
- :mod:`.result`: what the sensor returns and the download consumes, to and from XCom.
"""

from __future__ import annotations

from airflow_provider_atlas_restore.models.restore_job import (
    RestoreComponent,
    RestoreJob,
    RestoreJobState,
    newest_completed,
    parse_timestamp,
    secret_links,
)
from airflow_provider_atlas_restore.models.result import RestoreJobResult
from airflow_provider_atlas_restore.models.wait import WaitOutcome, WaitStatus, evaluate_restore_job

__all__ = [
    "RestoreComponent",
    "RestoreJob",
    "RestoreJobResult",
    "RestoreJobState",
    "WaitOutcome",
    "WaitStatus",
    "evaluate_restore_job",
    "newest_completed",
    "parse_timestamp",
    "secret_links",
]
