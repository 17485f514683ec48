"""AtlasCreateRestoreJobOperator and AtlasCancelRestoreJobOperator against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasInputError,
    AtlasSnapshotNotFoundError,
)
from airflow_provider_atlas_restore.operators import cancel_restore_job, restore_job_lifecycle
from airflow_provider_atlas_restore.operators.cancel_restore_job import AtlasCancelRestoreJobOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator


def create(**arguments):
    """The create task without waiting: these tests look at the job as Atlas created it."""
    defaults = {"cluster_name": "Cluster0", "wait_for_completion": False}
    return AtlasCreateRestoreJobOperator(task_id="create", **{**defaults, **arguments})


def test_download_of_the_latest_snapshot_picks_the_newest_completed(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    now = atlas_emulator.clock.now()
    newest = atlas_emulator.add_snapshot(seed.group_id, "Cluster0", created_at=now - 10)["id"]
    atlas_emulator.add_snapshot(seed.group_id, "Cluster0", status="inProgress", created_at=now - 5)
    atlas_emulator.add_snapshot(seed.group_id, "Cluster0", status="failed", created_at=now - 1)

    job = create().execute({})

    assert job["snapshotId"] == newest
    assert job["deliveryType"] == "download"
    assert atlas_emulator.restore_job(seed.group_id, "Cluster0", job["id"])["snapshotId"] == newest


def test_explicit_snapshot_is_restored_as_given(atlas_emulator, emulator_connection):
    oldest = atlas_emulator.seed.snapshot_ids[-1]

    assert create(snapshot_id=oldest).execute({})["snapshotId"] == oldest
    assert atlas_emulator.stats.count(route="list_snapshots") == 0


def test_latest_without_completed_snapshot_fails_clearly(atlas_emulator, emulator_connection):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, "Empty0")

    with pytest.raises(AtlasSnapshotNotFoundError, match="Empty0 has no completed snapshot"):
        create(cluster_name="Empty0").execute({})
    assert atlas_emulator.stats.count(route="create_restore_job") == 0


@pytest.mark.parametrize("delivery_type", ["automated", "pointInTime"])
def test_overwriting_restores_need_explicit_confirmation(delivery_type):
    with pytest.raises(
        AtlasInputError,
        match="overwrites all data of the target cluster 'Prod-1': pass confirm_overwrite=True",
    ):
        create(
            delivery_type=delivery_type,
            target_cluster_name="Prod-1",
            target_group_id="6a794320c0eb9e7a17728a63",
        )


@pytest.mark.parametrize(
    ("delivery_type", "start"), [("automated", "An automated"), ("pointInTime", "A pointInTime")]
)
def test_unconfirmed_overwrite_without_a_target_reads_well(delivery_type, start):
    with pytest.raises(AtlasInputError) as caught:
        create(delivery_type=delivery_type)

    assert str(caught.value).startswith(
        f"{start} restore overwrites all data of the target cluster: pass confirm_overwrite=True"
    )
    assert "None" not in str(caught.value)


def test_confirmed_automated_restore_is_created(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    atlas_emulator.add_cluster(seed.group_id, "Target-1")

    job = create(
        delivery_type="automated",
        target_cluster_name="Target-1",
        target_group_id=seed.group_id,
        confirm_overwrite=True,
    ).execute({})

    assert (job["deliveryType"], job["targetClusterName"]) == ("automated", "Target-1")


def test_templated_point_in_time_seconds_are_sent_as_a_number(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    atlas_emulator.add_cluster(seed.group_id, "Target-1")
    moment = int(atlas_emulator.clock.now()) - 3600

    job = create(
        delivery_type="pointInTime",
        target_cluster_name="Target-1",
        target_group_id=seed.group_id,
        point_in_time_utc_seconds=str(moment),  # as a template renders it
        confirm_overwrite=True,
    ).execute({})

    assert job["pointInTimeUTCSeconds"] == moment
    assert (
        "snapshotId" not in job
        or job["snapshotId"] is None
        or atlas_emulator.stats.count(route="list_snapshots") == 0
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cluster_name": "bad name"}, "cluster_name"),
        ({"group_id": "nope"}, "group_id"),
        ({"snapshot_id": "nope"}, "snapshot_id"),
        (
            {
                "delivery_type": "pointInTime",
                "confirm_overwrite": True,
                "target_cluster_name": "T-1",
                "target_group_id": "6a794320c0eb9e7a17728a63",
                "oplog_ts": "soon",
                "oplog_inc": 1,
            },
            "oplog_ts='soon' is not a whole number",
        ),
    ],
)
def test_bad_input_sends_nothing(atlas_emulator, emulator_connection, arguments, message):
    with pytest.raises(AtlasInputError, match=message):
        create(**arguments).execute({})
    assert atlas_emulator.stats.count() == 0


def test_templated_fields_of_create():
    assert {
        "cluster_name",
        "snapshot_id",
        "group_id",
        "target_cluster_name",
        "point_in_time_utc_seconds",
    } <= set(AtlasCreateRestoreJobOperator.template_fields)


def test_cancel_cancels_a_pending_job(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    job_id = atlas_emulator.add_restore_job(seed.group_id, "Cluster0", ready_after=600)["id"]

    AtlasCancelRestoreJobOperator(task_id="cancel", cluster_name="Cluster0", restore_job_id=job_id).execute(
        {}
    )

    assert atlas_emulator.restore_job(seed.group_id, "Cluster0", job_id)["cancelled"] is True


def test_cancel_refused_by_atlas_fails_with_its_reason(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    job_id = atlas_emulator.add_restore_job(seed.group_id, "Cluster0", ready_after=0)["id"]

    with pytest.raises(AtlasApiError, match=f"Atlas refuses to cancel restore job {job_id}"):
        AtlasCancelRestoreJobOperator(
            task_id="cancel", cluster_name="Cluster0", restore_job_id=job_id
        ).execute({})


def test_the_cancel_operator_keeps_its_earlier_import_path():
    assert (
        restore_job_lifecycle.AtlasCancelRestoreJobOperator
        is cancel_restore_job.AtlasCancelRestoreJobOperator
    )
    assert AtlasCancelRestoreJobOperator.__module__ == cancel_restore_job.__name__


def test_a_flex_restore_needs_no_target_group_when_the_cluster_type_says_flex(
    atlas_emulator, emulator_connection
):
    group = atlas_emulator.seed.group_id
    atlas_emulator.add_flex_cluster(group, "Flex0")
    atlas_emulator.add_flex_cluster(group, "Flex1")
    snapshot = atlas_emulator.add_flex_snapshot(group, "Flex0")

    job = create(
        cluster_name="Flex0",
        cluster_type="flex",
        delivery_type="automated",
        target_cluster_name="Flex1",
        confirm_overwrite=True,
    ).execute({})

    assert (job["snapshotId"], job["targetDeploymentItemName"]) == (snapshot["id"], "Flex1")
    assert job["targetProjectId"] == group  # Atlas's default: the source project
    assert atlas_emulator.stats.count(route="get_cluster") == 0


def test_with_auto_an_automated_restore_needs_its_target_group_before_any_request(
    atlas_emulator, emulator_connection
):
    operator = create(delivery_type="automated", target_cluster_name="Flex1", confirm_overwrite=True)

    with pytest.raises(AtlasInputError, match="target_group_id"):
        operator.execute({})
    assert atlas_emulator.stats.count() == 0
