"""
Typed views of what Atlas returns and what the tasks hand each other (XCom), with no I/O.

- :mod:`.restore_job`: a restore job read leniently from the API, its state and secret links.
- :mod:`.wait`: whether waiting for a job is over (the sensor and the trigger share it).
- :mod:`.result`: what the sensor returns and the download consumes, to and from XCom.

The names below are imported from their modules when first asked for, not with the package:
a DAG file that imports one light module of the package (such as ``models.snapshot_choice``)
does not load the restore-job model, the result and the wait with it (benchmark figure 4p).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.models.restore_job import (
        RestoreComponent,
        RestoreJob,
        newest_completed,
        secret_links,
    )
    from airflow_provider_atlas_restore.models.restore_job_state import RestoreJobState
    from airflow_provider_atlas_restore.models.result import RestoreJobResult
    from airflow_provider_atlas_restore.models.timestamps import parse_timestamp
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

#: The module of this package each name of ``__all__`` comes from.
_HOMES = {
    "RestoreComponent": "restore_job",
    "RestoreJob": "restore_job",
    "RestoreJobResult": "result",
    "RestoreJobState": "restore_job_state",
    "WaitOutcome": "wait",
    "WaitStatus": "wait",
    "evaluate_restore_job": "wait",
    "newest_completed": "restore_job",
    "parse_timestamp": "timestamps",
    "secret_links": "restore_job",
}


def __getattr__(name: str) -> Any:
    """Import one of the package's names from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's names, the ones imported when first asked for included."""
    return sorted(set(globals()) | set(__all__))
