"""AtlasTakeSnapshotOperator taking an on-demand snapshot and waiting for it, run by Airflow (dag.test) against the emulator."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_DAGS
from tests.operators.snapshot_helpers import (
    CLUSTER,
    MODES,
    SHARDED,
    after_looks,
    on_demand_snapshots,
    posts,
    quick_retries,
    snapshot_reads,
)

DESCRIPTION = "nightly copy for staging"
QUEUED = IN_PROGRESS = 30.0


@pytest.fixture
def slow_snapshots(atlas_emulator):
    """Snapshots taken over HTTP stay queued 30 s, then in progress 30 s, on the emulator's clock."""
    atlas_emulator.backup_timings.snapshot_queued = QUEUED
    atlas_emulator.backup_timings.snapshot_in_progress = IN_PROGRESS
    return atlas_emulator


def info_lines(logged: str, text: str) -> int:
    """Return how many log lines above DEBUG hold ``text``."""
    return sum(
        1 for line in logged.splitlines() if text in line and "DEBUG" not in line and "[debug" not in line
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cluster", [CLUSTER, SHARDED])
def test_take_snapshot_waits_until_completed_and_returns_its_id_and_time(
    airflow_database, slow_snapshots, atlas_dag_runner, resource_triggers_run, log_text, mode, cluster
):
    emulator = slow_snapshots
    if cluster == SHARDED:
        emulator.add_cluster(emulator.seed.group_id, SHARDED, sharded=True, shards=2)
    with after_looks(emulator, lambda: emulator.clock.advance(QUEUED + IN_PROGRESS), looks=3):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_wait_{mode}", {"cluster": cluster})

    assert result.state == "success", result.task_states
    [snapshot] = on_demand_snapshots(emulator, cluster)
    value = result.xcom["take"]
    assert (value["snapshot_id"], value["status"], value["snapshot_type"]) == (
        snapshot["id"],
        "completed",
        "onDemand",
    )
    assert (value["cluster_name"], value["group_id"]) == (cluster, emulator.seed.group_id)
    assert value["created_at"] is not None
    assert value["created_at"].replace("+00:00", "Z") == snapshot["createdAt"]
    assert value["description"] == DESCRIPTION
    assert value["storage_size_bytes"] > 0
    assert posts(emulator) == 1
    assert emulator.stats.count(route="list_snapshots") == 0  # a first try looks for no earlier one
    assert [run["fields"]["snapshot_id"] for run in resource_triggers_run] == (
        [snapshot["id"]] if mode == "deferrable" else []
    )
    if cluster == SHARDED:
        assert emulator.stats.count(route="get_snapshot") == 0  # read at .../shardedCluster/{id}
    # Several looks saw it queued; the state is logged once (the same again only at DEBUG) by
    # each process that looks: the task, and in deferrable mode the triggerer.
    queued = f"On-demand snapshot {snapshot['id']} of cluster {cluster} is queued"
    assert info_lines(log_text(), queued) == (1 if mode == "poke" else 2)
    assert snapshot_reads(emulator) >= 3


def test_a_snapshot_completed_at_the_first_look_never_defers(
    airflow_database, atlas_emulator, atlas_dag_runner, resource_triggers_run
):
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_snapshot_wait_deferrable")

    assert result.xcom["take"]["status"] == "completed"
    assert resource_triggers_run == []


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_snapshot_fails_the_task_at_once_without_a_retry(
    airflow_database, slow_snapshots, atlas_dag_runner, log_text, mode
):
    emulator = slow_snapshots

    def fail_it():
        [snapshot] = on_demand_snapshots(emulator)
        emulator.fail_snapshot(emulator.seed.group_id, CLUSTER, snapshot["id"])

    with after_looks(emulator, fail_it):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_wait_{mode}")

    assert result.task_states["take"] == "failed"
    [snapshot] = on_demand_snapshots(emulator)
    assert f"On-demand snapshot {snapshot['id']} of cluster {CLUSTER} is failed" in log_text()
    assert posts(emulator) == 1  # the task has a retry, but another try cannot help


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_the_task_clearly_and_leaves_the_snapshot_running(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, mode
):
    atlas_emulator.backup_timings.snapshot_queued = 3600

    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_timeout_{mode}")

    assert result.task_states["take"] == "failed"
    [snapshot] = on_demand_snapshots(atlas_emulator)
    assert snapshot["status"] == "queued"
    assert (
        f"On-demand snapshot {snapshot['id']} of cluster {CLUSTER} was not done after timeout=1 s"
    ) in log_text()
    assert posts(atlas_emulator) == 1  # a timeout is not retried


@pytest.mark.parametrize("mode", MODES)
def test_a_429_storm_and_503s_while_waiting_do_not_end_the_wait(
    airflow_database, slow_snapshots, atlas_dag_runner, monkeypatch, log_text, mode
):
    emulator = slow_snapshots
    quick_retries(emulator, monkeypatch)
    for route in ("get_snapshot",):
        emulator.faults.add(route=route, status=429, count=6, skip=1)
        emulator.faults.add(route=route, status=503, count=4, skip=7)
    with after_looks(emulator, lambda: emulator.clock.advance(QUEUED + IN_PROGRESS), looks=2):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_wait_{mode}")

    assert result.state == "success", result.task_states
    [snapshot] = on_demand_snapshots(emulator)
    assert result.xcom["take"]["snapshot_id"] == snapshot["id"]
    assert emulator.stats.count(route="get_snapshot", status=429) == 6
    assert emulator.stats.count(route="get_snapshot", status=503) == 4
    assert posts(emulator) == 1
    assert "no usable answer this time" in log_text()
