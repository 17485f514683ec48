"""choose_latest_snapshot: the newest completed snapshot, fallback ones passed over unless allowed."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.snapshot_choice import (
    choose_latest_snapshot,
    snapshot_id_from_input,
)


def snapshot(index: int, day: int, status: str = "completed", kind: str = "scheduled") -> dict[str, Any]:
    return {
        "id": f"{index:024x}",
        "createdAt": f"2026-08-{day:02d}T03:16:00Z",
        "status": status,
        "snapshotType": kind,
    }


SCHEDULED = snapshot(1, 8)
FALLBACK = snapshot(2, 9, kind="fallback")
NEWER_FALLBACK = snapshot(3, 10, kind="fallback")
RUNNING = snapshot(4, 11, status="inProgress")


def test_fallback_snapshots_newer_than_the_chosen_one_are_skipped_and_named():
    choice = choose_latest_snapshot([SCHEDULED, FALLBACK, NEWER_FALLBACK, RUNNING])

    assert choice.snapshot == SCHEDULED
    assert choice.skipped_fallback == (NEWER_FALLBACK, FALLBACK)
    described = choice.describe("Cluster0")
    assert described.startswith(
        f"Chose snapshot {SCHEDULED['id']} of cluster Cluster0, taken 2026-08-08T03:16:00Z: the newest "
        "completed non-fallback snapshot; skipped fallback snapshots "
    )
    assert f"{NEWER_FALLBACK['id']} (taken 2026-08-10T03:16:00Z), {FALLBACK['id']}" in described
    assert "allow_fallback_snapshot=True" in described


def test_a_fallback_snapshot_is_chosen_when_allowed_and_the_log_says_so():
    choice = choose_latest_snapshot([SCHEDULED, FALLBACK, NEWER_FALLBACK, RUNNING], allow_fallback=True)

    assert choice.snapshot == NEWER_FALLBACK
    assert choice.skipped_fallback == ()
    assert choice.describe("Cluster0").startswith(
        f"Chose fallback snapshot {NEWER_FALLBACK['id']} of cluster Cluster0"
    )
    assert "fallback ones allowed (allow_fallback_snapshot=True)" in choice.describe("Cluster0")


def test_without_fallback_snapshots_the_newest_completed_is_chosen_with_nothing_skipped():
    choice = choose_latest_snapshot([SCHEDULED, snapshot(5, 9, kind="onDemand")])

    assert choice.snapshot is not None
    assert choice.snapshot["id"] == f"{5:024x}"
    assert "skipped" not in choice.describe("Cluster0")


def test_only_fallback_snapshots_give_no_choice_and_an_error_that_says_how_to_allow_them():
    choice = choose_latest_snapshot([FALLBACK, RUNNING])

    assert choice.snapshot is None
    message = choice.not_found_message("Cluster0", 2)
    assert "no completed snapshot but fallback ones (2 snapshots; fallback:" in message
    assert FALLBACK["id"] in message
    assert "pass allow_fallback_snapshot=True" in message


def test_no_completed_snapshot_keeps_the_plain_message():
    choice = choose_latest_snapshot([RUNNING])

    assert choice.not_found_message("Cluster0", 1).startswith(
        "Cluster Cluster0 has no completed snapshot (1 snapshots, none completed)"
    )


SNAP_ID = "5b6212af90dc76637950a2c6"


@pytest.mark.parametrize(
    "given",
    [
        SNAP_ID,
        {"snapshot_id": SNAP_ID},
        {"snapshot_id": SNAP_ID, "cluster_name": "Cluster0", "status": "completed"},
    ],
    ids=["id", "mapping", "take-snapshot output"],
)
def test_a_snapshot_id_is_read_from_an_id_or_a_take_snapshot_tasks_output(given):
    assert snapshot_id_from_input(given, cluster_name="Cluster0") == SNAP_ID


def test_latest_stays_latest():
    assert snapshot_id_from_input("latest") == "latest"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({}, "a mapping without a 'snapshot_id' key (keys: none)"),
        ({"id": SNAP_ID}, "a mapping without a 'snapshot_id' key (keys: 'id')"),
        ({"snapshot_id": None}, "snapshot_id['snapshot_id']=None is not a valid Atlas snapshot id"),
        ({"snapshot_id": "latest"}, "snapshot_id['snapshot_id']='latest' is not a valid Atlas snapshot id"),
        (
            {"snapshot_id": SNAP_ID, "cluster_name": "Other0"},
            "of cluster 'Other0', but the task's cluster is 'Cluster0'",
        ),
        (f"{{'snapshot_id': '{SNAP_ID}'}}", "a mapping rendered as text"),
        ("s", "is not a valid Atlas id"),
        (7, "snapshot_id=7 is a int"),
    ],
)
def test_anything_else_is_refused_saying_what_is_wrong_and_what_is_accepted(given, said):
    with pytest.raises(AtlasInputError) as raised:
        snapshot_id_from_input(given, cluster_name="Cluster0")

    assert said in str(raised.value)
