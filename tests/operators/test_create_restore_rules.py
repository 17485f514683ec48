"""AtlasCreateRestoreJobOperator's rules before the POST: fallback snapshots, the point-in-time window (emulator)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError, AtlasSnapshotNotFoundError
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

DAY = 86_400


def create(**arguments: Any) -> AtlasCreateRestoreJobOperator:
    arguments.setdefault("cluster_name", "Cluster0")
    arguments.setdefault("wait_for_completion", False)  # these tests look at the job as created
    return AtlasCreateRestoreJobOperator(task_id="create", **arguments)


def add_fallback(emulator: Any, cluster: str = "Cluster0", minutes_ago: float = 10) -> str:
    created_at = emulator.clock.now() - 60 * minutes_ago
    snapshot = emulator.add_snapshot(
        emulator.seed.group_id, cluster, created_at=created_at, snapshot_type="fallback"
    )
    return str(snapshot["id"])


def test_latest_skips_a_newer_fallback_snapshot_and_the_log_says_why(
    atlas_emulator, emulator_connection, log_text
):
    fallback = add_fallback(atlas_emulator)

    job = create().execute({})

    assert job["snapshotId"] == atlas_emulator.seed.snapshot_id
    output = log_text()
    assert f"Chose snapshot {atlas_emulator.seed.snapshot_id} of cluster Cluster0" in output
    assert "the newest completed non-fallback snapshot; skipped fallback snapshot " + fallback in output


def test_latest_restores_a_fallback_snapshot_when_allowed(atlas_emulator, emulator_connection, log_text):
    fallback = add_fallback(atlas_emulator)

    job = create(allow_fallback_snapshot=True).execute({})

    assert job["snapshotId"] == fallback
    assert f"Chose fallback snapshot {fallback} of cluster Cluster0" in log_text()


def test_a_cluster_with_only_fallback_snapshots_fails_without_a_post(atlas_emulator, emulator_connection):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, "Fallback0")
    fallback = add_fallback(atlas_emulator, "Fallback0")

    with pytest.raises(
        AtlasSnapshotNotFoundError, match=f"fallback: {fallback}.*allow_fallback_snapshot=True"
    ):
        create(cluster_name="Fallback0").execute({})
    assert atlas_emulator.stats.count(route="create_restore_job") == 0


def test_a_given_fallback_snapshot_id_is_restored_as_asked(atlas_emulator, emulator_connection):
    fallback = add_fallback(atlas_emulator)

    job = create(snapshot_id=fallback).execute({})

    assert job["snapshotId"] == fallback
    assert atlas_emulator.stats.count(route="list_snapshots") == 0


def point_in_time(atlas_emulator: Any, **moment: Any) -> AtlasCreateRestoreJobOperator:
    seed = atlas_emulator.seed
    if "Target-1" not in atlas_emulator.store.project(seed.group_id).clusters:
        atlas_emulator.add_cluster(seed.group_id, "Target-1")
    return create(
        delivery_type="pointInTime",
        target_cluster_name="Target-1",
        target_group_id=seed.group_id,
        confirm_overwrite=True,
        **moment,
    )


@pytest.mark.parametrize("parameter", ["point_in_time_utc_seconds", "oplog_ts"])
def test_a_moment_before_the_restore_window_is_refused_with_zero_posts(
    atlas_emulator, emulator_connection, parameter
):
    atlas_emulator.set_continuous_backup(
        atlas_emulator.seed.group_id, "Cluster0", True, restore_window_days=3
    )
    moment = int(atlas_emulator.clock.now()) - 4 * DAY
    arguments = {parameter: moment, **({"oplog_inc": 1} if parameter == "oplog_ts" else {})}

    with pytest.raises(AtlasInputError) as refused:
        point_in_time(atlas_emulator, **arguments).execute({})

    message = str(refused.value)
    assert f"{parameter}={moment}" in message
    assert "outside the point-in-time restore window of cluster Cluster0 (before its start)" in message
    assert "the window is the last 3 days, from " in message
    assert atlas_emulator.stats.count(route="create_restore_job") == 0
    assert atlas_emulator.stats.count(route="get_backup_schedule", status=200) == 1
    assert atlas_emulator.stats.count(route="get_cluster", status=200) == 1


def test_a_moment_in_the_future_is_refused_with_zero_posts(atlas_emulator, emulator_connection):
    moment = int(atlas_emulator.clock.now()) + DAY

    with pytest.raises(AtlasInputError, match="in the future"):
        point_in_time(atlas_emulator, point_in_time_utc_seconds=moment).execute({})
    assert atlas_emulator.stats.count(route="create_restore_job") == 0


def test_a_cluster_without_continuous_backup_is_refused_with_zero_posts(atlas_emulator, emulator_connection):
    atlas_emulator.set_continuous_backup(atlas_emulator.seed.group_id, "Cluster0", False)
    moment = int(atlas_emulator.clock.now()) - 3600

    with pytest.raises(AtlasInputError, match="Cluster Cluster0 does not use continuous cloud backup"):
        point_in_time(atlas_emulator, point_in_time_utc_seconds=moment).execute({})
    assert atlas_emulator.stats.count(route="create_restore_job") == 0


def test_a_moment_inside_the_window_is_restored_after_one_look_at_each(
    atlas_emulator, emulator_connection, log_text
):
    moment = int(atlas_emulator.clock.now()) - 2 * DAY

    job = point_in_time(atlas_emulator, point_in_time_utc_seconds=moment).execute({})

    assert job["pointInTimeUTCSeconds"] == moment
    assert atlas_emulator.stats.count(route="create_restore_job", status=200) == 1
    assert atlas_emulator.stats.count(route="get_cluster", status=200) == 1
    assert atlas_emulator.stats.count(route="get_backup_schedule", status=200) == 1
    assert f"point_in_time_utc_seconds={moment} is inside the point-in-time restore window" in log_text()


def test_other_restores_do_not_read_the_schedule(atlas_emulator, emulator_connection):
    create().execute({})

    assert atlas_emulator.stats.count(route="get_backup_schedule") == 0
    assert atlas_emulator.stats.count(route="get_cluster") == 0
