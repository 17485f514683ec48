"""AtlasDeleteSnapshotOperator, and both snapshot operators on a flex cluster: run by Airflow (dag.test) against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasClusterKindError
from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator
from airflow_provider_atlas_restore.testing.seeding import seed_flex
from tests.conftest import TEST_DAGS
from tests.operators.snapshot_helpers import CLUSTER, SHARDED, on_demand_snapshots, posts

DELETES = "delete_snapshot"


def deletes(emulator) -> int:
    """Return how many DELETE requests reached the emulator (any answer)."""
    return emulator.stats.count(route=DELETES, method="DELETE")


def snapshot_ids(emulator, cluster: str = CLUSTER) -> set[str]:
    return set(emulator.store.cluster(emulator.seed.group_id, cluster).snapshots)


def test_take_then_delete_from_the_take_tasks_output_removes_the_snapshot(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_and_delete_snapshot")

    assert result.state == "success", result.task_states
    taken = result.xcom["take"]["snapshot_id"]
    assert result.xcom["delete"] == {
        "snapshot_id": taken,
        "cluster_name": CLUSTER,
        "group_id": atlas_emulator.seed.group_id,
        "deleted": True,
    }
    assert on_demand_snapshots(atlas_emulator) == []
    assert set(atlas_emulator.seed.snapshot_ids) == snapshot_ids(atlas_emulator)  # scheduled ones kept
    assert f"Deleted snapshot {taken} of cluster {CLUSTER}" in log_text()


def test_deleting_a_sharded_clusters_on_demand_snapshot(airflow_database, atlas_emulator, atlas_dag_runner):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, SHARDED, sharded=True, shards=2)
    snapshot = atlas_emulator.add_on_demand_snapshot(atlas_emulator.seed.group_id, SHARDED)

    result = atlas_dag_runner(
        TEST_DAGS, "test_atlas_delete_snapshot", {"cluster": SHARDED, "snapshot_id": snapshot["id"]}
    )

    assert result.xcom["delete"]["deleted"] is True
    assert snapshot_ids(atlas_emulator, SHARDED) == set()
    assert atlas_emulator.stats.count(route="get_sharded_snapshot", status=200) == 1


def test_a_scheduled_snapshot_is_refused_without_allow_scheduled_and_not_retried(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    scheduled = atlas_emulator.seed.snapshot_id

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_delete_snapshot", {"snapshot_id": scheduled})

    assert result.task_states["delete"] == "failed"
    assert scheduled in snapshot_ids(atlas_emulator)
    assert deletes(atlas_emulator) == 0
    assert atlas_emulator.stats.count(route="get_snapshot", status=200) == 1  # one try: a retry cannot help
    logged = log_text()
    assert (
        f"Snapshot {scheduled} of cluster {CLUSTER} is a scheduled snapshot, not an on-demand one" in logged
    )
    assert "allow_scheduled=True" in logged


def test_allow_scheduled_deletes_a_scheduled_snapshot(airflow_database, atlas_emulator, atlas_dag_runner):
    scheduled = atlas_emulator.seed.snapshot_id

    result = atlas_dag_runner(
        TEST_DAGS, "test_atlas_delete_snapshot_allow_scheduled", {"snapshot_id": scheduled}
    )

    assert result.xcom["delete"]["deleted"] is True
    assert scheduled not in snapshot_ids(atlas_emulator)


@pytest.mark.parametrize("gone", ["before the task", "answer of the DELETE lost"])
def test_a_snapshot_already_gone_is_success_so_cleanup_is_idempotent(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, gone
):
    snapshot = atlas_emulator.add_on_demand_snapshot(atlas_emulator.seed.group_id, CLUSTER)
    if gone == "before the task":
        atlas_emulator.store.backups.delete_snapshot(atlas_emulator.seed.group_id, CLUSTER, snapshot["id"])
    else:  # Atlas deletes it, then the connection is reset before its 204 arrives
        atlas_emulator.faults.add(route=DELETES, kind="reset", method="DELETE")

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_delete_snapshot", {"snapshot_id": snapshot["id"]})

    assert result.state == "success", result.task_states
    assert snapshot["id"] not in snapshot_ids(atlas_emulator)
    assert result.xcom["delete"]["deleted"] is False
    assert (
        f"Snapshot {snapshot['id']} of cluster {CLUSTER} does not exist (404): already deleted" in log_text()
    )


def test_a_wrong_cluster_name_fails_rather_than_counting_as_deleted(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    result = atlas_dag_runner(
        TEST_DAGS,
        "test_atlas_delete_snapshot",
        {"cluster": "Nope0", "snapshot_id": atlas_emulator.seed.snapshot_id},
    )

    assert result.task_states["delete"] == "failed"
    assert "CLUSTER_NOT_FOUND" in log_text()


@pytest.mark.parametrize("dag_id", ["test_atlas_take_snapshot_wait_poke", "test_atlas_delete_snapshot"])
def test_a_flex_cluster_found_by_auto_fails_the_task_saying_so_without_a_retry(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, dag_id
):
    seed_flex(atlas_emulator, atlas_emulator.seed)
    snapshot_id = atlas_emulator.seed.flex_snapshots[0]["id"]

    result = atlas_dag_runner(TEST_DAGS, dag_id, {"cluster": "Flex0", "snapshot_id": snapshot_id})

    [task] = result.task_states
    assert result.task_states[task] == "failed"
    assert (
        "Cluster Flex0 is a flex cluster (Atlas answered CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API)"
        in log_text()
    )
    assert posts(atlas_emulator) == 0
    assert posts(atlas_emulator, 400) == (1 if task == "take" else 0)  # one try: a retry cannot help
    assert deletes(atlas_emulator) == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name="Flex0", cluster_type="flex"),
        lambda: AtlasDeleteSnapshotOperator(
            task_id="t", cluster_name="Flex0", snapshot_id="a" * 24, cluster_type="flex"
        ),
    ],
    ids=["take", "delete"],
)
def test_cluster_type_flex_is_refused_when_the_dag_loads(build):
    with pytest.raises(AtlasClusterKindError, match="Atlas has no on-demand snapshots"):
        build()


def test_the_take_tasks_output_is_a_snapshot_id_for_a_restore(
    airflow_database, atlas_emulator, atlas_dag_runner
):
    atlas_emulator.ready_after = 0

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_snapshot_and_restore_it")

    assert result.state == "success", result.task_states
    assert result.xcom["restore"]["snapshot_id"] == result.xcom["take"]["snapshot_id"]
    [job] = [
        atlas_emulator.restore_job(
            atlas_emulator.seed.group_id, CLUSTER, result.xcom["restore"]["restore_job_id"]
        )
    ]
    assert job["snapshotId"] == result.xcom["take"]["snapshot_id"]
