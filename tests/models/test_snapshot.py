"""A snapshot's status, the wait's verdict and its XCom result, from recorded answers."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.snapshot import (
    Snapshot,
    SnapshotResult,
    SnapshotStatus,
    evaluate_snapshot,
)
from airflow_provider_atlas_restore.models.wait import WaitStatus

SNAPSHOT_ID = "6a7944f22c88faeba59d3572"


@pytest.mark.parametrize(
    ("name", "status", "verdict"),
    [
        ("v2-snapshot-take", SnapshotStatus.QUEUED, WaitStatus.PENDING),
        ("v2-snapshot-get-inprogress", SnapshotStatus.IN_PROGRESS, WaitStatus.PENDING),
        ("v2-snapshot-get-completed", SnapshotStatus.COMPLETED, WaitStatus.DONE),
    ],
)
def test_recorded_on_demand_snapshot_is_read_and_judged(recorded, name, status, verdict):
    body = recorded(name)["body"]

    view = Snapshot.from_api(body)
    outcome = evaluate_snapshot(body, cluster_name="cluster-209", snapshot_id=SNAPSHOT_ID)

    assert view.status is status
    assert view.is_on_demand
    assert (outcome.status, outcome.state) == (verdict, status)
    assert f"On-demand snapshot {SNAPSHOT_ID} of cluster cluster-209 is {status.value}" in outcome.message
    assert (view.created_at is None) == (status is not SnapshotStatus.COMPLETED)


def test_completed_message_gives_size_and_time(recorded):
    outcome = evaluate_snapshot(recorded("v2-snapshot-get-completed")["body"], cluster_name="cluster-209")

    assert "1,582,854,144 bytes" in outcome.message
    assert "taken at 2026-08-10T03:28:08+00:00" in outcome.message


def test_failed_snapshot_ends_the_wait_with_what_to_do():
    outcome = evaluate_snapshot({"id": SNAPSHOT_ID, "status": "failed"}, cluster_name="C0")

    assert outcome.status is WaitStatus.FAILED
    assert outcome.state.is_failure
    assert "take a new snapshot" in outcome.message


def test_status_is_read_without_case_and_unknown_ones_keep_the_wait_going():
    assert Snapshot.from_api({"status": "COMPLETED"}).status is SnapshotStatus.COMPLETED
    outcome = evaluate_snapshot({"status": "paused"}, cluster_name="C0")

    assert outcome.status is WaitStatus.PENDING
    assert "'paused'" in outcome.message


def test_result_goes_through_xcom_and_back(recorded):
    body = recorded("v2-snapshot-get-completed")["body"]
    result = SnapshotResult.from_snapshot(
        body, snapshot_id=SNAPSHOT_ID, cluster_name="cluster-209", group_id="b0123456789abcdef012345b"
    )

    data = result.to_xcom()

    assert SnapshotResult.from_xcom(data) == result
    assert data["status"] == "completed"
    assert data["storage_size_bytes"] == 1_582_854_144


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "snapshot_id is missing"),
        ({"snapshot_id": "latest"}, "is not a valid Atlas id"),
        ({"snapshot_id": SNAPSHOT_ID, "status": "done"}, "status='done' is not allowed"),
        ({"snapshot_id": SNAPSHOT_ID, "storage_size_bytes": -1}, "is not a count"),
        ("text", "must be the XCom value"),
    ],
)
def test_bad_xcom_is_refused_naming_the_field(data, message):
    with pytest.raises(AtlasInputError, match=message):
        SnapshotResult.from_xcom(data)
