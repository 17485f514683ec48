"""
Which snapshot a task is given: an id, ``"latest"``, or what a take-snapshot task handed on (XCom).

A take-snapshot task returns a mapping with ``snapshot_id``; passing its output
(``snapshot_id=take.output``) names that snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_atlas_restore.api.validation import validate_object_id
from airflow_provider_atlas_restore.exceptions import AtlasInputError

#: ``snapshot_id`` value that picks the cluster's newest completed snapshot when the task runs.
LATEST_SNAPSHOT = "latest"


def snapshot_reference(value: Any, parameter: str = "snapshot_id", *, allow_latest: bool = True) -> str:
    """
    Return ``"latest"`` or a checked snapshot id from an id, ``"latest"`` or a take-snapshot task's output.

    :param value: what the user gave (rendered).
    :param parameter: the parameter name, for the error message.
    :param allow_latest: whether ``"latest"`` is accepted.
    """
    if isinstance(value, Mapping):
        if "snapshot_id" not in value:
            raise AtlasInputError(
                f"{parameter} is a mapping without 'snapshot_id' (keys: {sorted(map(str, value))}): it must be "
                "a snapshot id, 'latest', or a take-snapshot task's output."
            )
        return validate_object_id(value["snapshot_id"], f"{parameter}['snapshot_id']")
    if allow_latest and value == LATEST_SNAPSHOT:
        return LATEST_SNAPSHOT
    if not isinstance(value, str):
        allowed = (
            "a snapshot id, 'latest', or a take-snapshot task's output" if allow_latest else "a snapshot id"
        )
        raise AtlasInputError(f"{parameter}={value!r} is not a snapshot: it must be {allowed}.")
    return validate_object_id(value, parameter)
