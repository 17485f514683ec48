"""Which snapshot a task is given: an id, "latest" (where allowed), or a take-snapshot task's output."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.snapshot_choice import LATEST_SNAPSHOT, snapshot_id_from_input

SNAP = "6a79468a2c88faeba59de489"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(SNAP, SNAP), (LATEST_SNAPSHOT, LATEST_SNAPSHOT), ({"snapshot_id": SNAP, "status": "completed"}, SNAP)],
    ids=["id", "latest", "take output"],
)
def test_an_id_latest_or_a_take_output_names_the_snapshot(value, expected):
    assert snapshot_id_from_input(value) == expected


@pytest.mark.parametrize(
    ("value", "allow_latest", "names"),
    [
        ("Latest", True, "snapshot_id='Latest'"),
        (LATEST_SNAPSHOT, False, "snapshot_id='latest'"),
        ({"id": SNAP}, True, "without a 'snapshot_id' key"),
        ({"snapshot_id": "nope"}, True, "snapshot_id['snapshot_id']='nope'"),
        (5, True, "snapshot_id=5"),
        (None, True, "snapshot_id=None"),
    ],
)
def test_anything_else_is_refused_saying_what_is_allowed(value, allow_latest, names):
    with pytest.raises(AtlasInputError, match="must") as caught:
        snapshot_id_from_input(value, allow_latest=allow_latest)

    assert names in str(caught.value)
