"""AtlasTakeSnapshotOperator when a snapshot is running already, and a retry after its first try died: run by Airflow."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_atlas_restore.hooks.on_demand_snapshots import OnDemandSnapshotOperations
from tests.conftest import TEST_DAGS
from tests.operators.snapshot_helpers import (
    CLUSTER,
    MODES,
    after_looks,
    on_demand_snapshots,
    posts,
)
from tests.operators.test_create_and_wait_retries import try_numbers

DESCRIPTION = "nightly copy for staging"
RUNNING = 60.0


@pytest.fixture
def running_snapshot(atlas_emulator) -> dict:
    """Another on-demand snapshot of the cluster, queued 30 s then in progress 30 s on the emulator's clock."""
    return atlas_emulator.add_on_demand_snapshot(
        atlas_emulator.seed.group_id,
        CLUSTER,
        description="someone else's",
        queued_seconds=RUNNING / 2,
        in_progress_seconds=RUNNING / 2,
    )


@pytest.mark.parametrize("mode", MODES)
def test_if_in_progress_wait_waits_for_the_running_snapshot_then_takes_its_own(
    airflow_database,
    atlas_emulator,
    running_snapshot,
    atlas_dag_runner,
    resource_triggers_run,
    log_text,
    mode,
):
    with after_looks(atlas_emulator, lambda: atlas_emulator.clock.advance(RUNNING)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_wait_{mode}")

    assert result.state == "success", result.task_states
    running, ours = on_demand_snapshots(atlas_emulator)
    assert running["id"] == running_snapshot["id"]
    assert (running["status"], ours["status"], ours["description"]) == ("completed", "completed", DESCRIPTION)
    assert result.xcom["take"]["snapshot_id"] == ours["id"]
    assert (posts(atlas_emulator, 400), posts(atlas_emulator)) == (1, 1)  # refused once, then taken
    assert (
        f"On-demand snapshot {running['id']} of cluster {CLUSTER} is queued and Atlas takes one" in log_text()
    )
    if mode == "deferrable":  # the running one was waited for in the triggerer; ours was done at once
        assert [run["fields"]["snapshot_id"] for run in resource_triggers_run] == [running["id"]]


@pytest.mark.parametrize("mode", MODES)
def test_if_in_progress_adopt_returns_the_running_snapshot_once_completed(
    airflow_database, atlas_emulator, running_snapshot, atlas_dag_runner, mode
):
    with after_looks(atlas_emulator, lambda: atlas_emulator.clock.advance(RUNNING)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_adopt_{mode}")

    assert result.state == "success", result.task_states
    [running] = on_demand_snapshots(atlas_emulator)
    assert (result.xcom["take"]["snapshot_id"], result.xcom["take"]["status"]) == (running["id"], "completed")
    assert (posts(atlas_emulator, 400), posts(atlas_emulator)) == (1, 0)


def test_if_in_progress_fail_fails_at_once_naming_the_running_snapshot(
    airflow_database, atlas_emulator, running_snapshot, atlas_dag_runner, log_text
):
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_snapshot_fail_poke")

    assert result.task_states["take"] == "failed"
    assert on_demand_snapshots(atlas_emulator) == [
        atlas_emulator.snapshot(atlas_emulator.seed.group_id, CLUSTER, running_snapshot["id"])
    ]
    logged = log_text()
    assert f"on-demand snapshot {running_snapshot['id']} is still queued" in logged
    assert "if_in_progress='fail'" in logged
    assert posts(atlas_emulator, 400) == 1  # not retried: another try cannot help


@pytest.fixture
def first_try_dies_after_the_post(monkeypatch) -> list[dict]:
    """Make the first take of the test raise once Atlas has answered it, as a worker lost at that moment."""
    real_take = OnDemandSnapshotOperations.take_snapshot
    taken: list[dict] = []

    def take_then_die(self, *args, **kwargs):
        snapshot = real_take(self, *args, **kwargs)
        taken.append(snapshot)
        if len(taken) == 1:
            raise AirflowException("the worker was lost right after the POST")
        return snapshot

    monkeypatch.setattr(OnDemandSnapshotOperations, "take_snapshot", take_then_die)
    return taken


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("first_try", ["loses the answer", "dies after the answer"])
def test_a_retry_after_the_first_try_died_past_the_post_adopts_its_snapshot(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, request, mode, first_try
):
    atlas_emulator.backup_timings.snapshot_queued = 30
    if first_try == "loses the answer":
        atlas_emulator.faults.add(route="take_snapshot", kind="reset", method="POST")
    else:
        request.getfixturevalue("first_try_dies_after_the_post")
    dag_id = f"test_atlas_take_snapshot_wait_{mode}"

    with after_looks(atlas_emulator, lambda: atlas_emulator.clock.advance(30)):
        result = atlas_dag_runner(TEST_DAGS, dag_id)

    assert result.state == "success", result.task_states
    assert try_numbers(dag_id, result.run_id) == {"take": 2}
    [snapshot] = on_demand_snapshots(atlas_emulator)  # one snapshot: the retry took none
    assert posts(atlas_emulator) + posts(atlas_emulator, 0) == 1
    assert result.xcom["take"]["snapshot_id"] == snapshot["id"]
    assert f"Adopting on-demand snapshot {snapshot['id']} (queued) taken by an earlier try" in log_text()


def test_a_retry_does_not_adopt_a_failed_snapshot_and_takes_another(
    airflow_database, atlas_emulator, atlas_dag_runner, monkeypatch
):
    real_take = OnDemandSnapshotOperations.take_snapshot
    taken: list[dict] = []

    def take_fail_it_and_die_once(self, *args, **kwargs):
        snapshot = real_take(self, *args, **kwargs)
        taken.append(snapshot)
        if len(taken) == 1:
            atlas_emulator.fail_snapshot(atlas_emulator.seed.group_id, CLUSTER, snapshot["id"])
            raise AirflowException("the worker was lost right after the POST")
        return snapshot

    monkeypatch.setattr(OnDemandSnapshotOperations, "take_snapshot", take_fail_it_and_die_once)

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_snapshot_wait_poke")

    assert result.state == "success", result.task_states
    failed, taken_again = on_demand_snapshots(atlas_emulator)
    assert failed["status"] == "failed"
    assert result.xcom["take"]["snapshot_id"] == taken_again["id"]
    assert posts(atlas_emulator) == 2


def test_a_refusal_while_nothing_runs_is_asked_once_more_before_failing(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    # Atlas refused for a snapshot that ended before the task looked for it: the next POST is taken.
    atlas_emulator.faults.add(route="take_snapshot", status=400, method="POST")

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_take_snapshot_fail_poke")

    assert result.state == "success", result.task_states
    assert (posts(atlas_emulator, 400), posts(atlas_emulator)) == (1, 1)
    assert try_numbers("test_atlas_take_snapshot_fail_poke", result.run_id) == {"take": 1}
    assert "asking once more" in log_text()


@pytest.mark.parametrize("mode", MODES)
def test_timeout_while_waiting_for_the_running_snapshot_takes_none(
    airflow_database, atlas_emulator, running_snapshot, atlas_dag_runner, log_text, mode
):
    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_take_snapshot_timeout_{mode}")

    assert result.task_states["take"] == "failed"
    assert (
        f"On-demand snapshot {running_snapshot['id']} of cluster {CLUSTER} was not done after timeout=1 s of "
        "waiting for it to end, so this task took no snapshot of its own"
    ) in log_text()
    assert (posts(atlas_emulator, 400), posts(atlas_emulator)) == (1, 0)
