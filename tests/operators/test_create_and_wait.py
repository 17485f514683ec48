"""AtlasCreateRestoreJobOperator starting a restore and waiting for it, run by Airflow (dag.test) against the emulator."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import TEST_DAGS
from tests.operators.create_and_wait_helpers import (
    CLUSTER,
    DELIVERY_TYPES,
    after_first_look,
    jobs_of,
    newest_job_id,
    posts,
    prepare,
    run_until_killed,
)

MODES = ("poke", "deferrable")


@pytest.mark.parametrize("mode", MODES)
def test_create_and_wait_returns_what_the_sensor_returns(
    airflow_database, atlas_emulator, atlas_dag_runner, triggers_run, log_text, mode
):
    atlas_emulator.ready_after = 60
    with after_first_look(atlas_emulator, lambda: atlas_emulator.clock.advance(60)):
        created = atlas_dag_runner(
            TEST_DAGS, f"test_atlas_create_and_wait_download_{mode}", prepare(atlas_emulator)
        )

    assert created.state == "success", created.task_states
    [job] = jobs_of(atlas_emulator)
    result = created.xcom["create"]
    assert (result["restore_job_id"], result["state"]) == (job["id"], "ready")
    assert job["deliveryUrl"] != []
    assert result["delivery_urls"] == ["***"] * len(job["deliveryUrl"])
    assert atlas_emulator.stats.count(route="get_restore_job", status=200) >= 2  # pending, then ready
    assert atlas_emulator.stats.count(route="list_restore_jobs") == 0  # a first try looks for no earlier job
    assert [run["restore_job_id"] for run in triggers_run] == ([job["id"]] if mode == "deferrable" else [])
    logged = log_text()
    assert not [link for link in job["deliveryUrl"] if link in logged]  # masked in every log line
    sensed = atlas_dag_runner(TEST_DAGS, "test_atlas_wait_for_restore_poke", {"job_id": job["id"]})
    assert sensed.xcom["wait"] == result


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("delivery_type", ["automated", "pointInTime"])
def test_overwriting_restore_is_waited_for_until_finished(
    airflow_database, atlas_emulator, atlas_dag_runner, delivery_type, mode
):
    run_conf = prepare(atlas_emulator, delivery_type)
    atlas_emulator.ready_after = 60
    with after_first_look(atlas_emulator, lambda: atlas_emulator.clock.advance(60)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_create_and_wait_{delivery_type}_{mode}", run_conf)

    assert result.state == "success", result.task_states
    [job] = jobs_of(atlas_emulator)
    assert result.xcom["create"]["state"] == "finished"
    assert result.xcom["create"]["finished_at"] is not None
    assert (job["deliveryType"], job["targetClusterName"]) == (delivery_type, "Target0")


def test_a_job_done_at_the_first_look_never_defers(
    airflow_database, atlas_emulator, atlas_dag_runner, triggers_run
):
    atlas_emulator.ready_after = 0

    result = atlas_dag_runner(
        TEST_DAGS, "test_atlas_create_and_wait_download_deferrable", prepare(atlas_emulator)
    )

    assert result.xcom["create"]["state"] == "ready"
    assert triggers_run == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("end", "state"),
    [("fail_job", "failed"), ("expire_job", "expired"), ("cancel_job", "cancelled")],
)
def test_a_job_that_ends_badly_fails_the_task_with_its_state_and_no_retry(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, mode, end, state
):
    seed = atlas_emulator.seed
    atlas_emulator.ready_after = 600

    def end_the_job():
        getattr(atlas_emulator, end)(seed.group_id, CLUSTER, newest_job_id(atlas_emulator))

    with after_first_look(atlas_emulator, end_the_job):
        result = atlas_dag_runner(
            TEST_DAGS, f"test_atlas_create_and_wait_download_{mode}", prepare(atlas_emulator)
        )

    assert result.task_states["create"] == "failed"
    job_id = newest_job_id(atlas_emulator)
    assert f"Restore job {job_id} of cluster {CLUSTER} is {state}" in log_text()
    assert posts(atlas_emulator) == 1  # the task has a retry, but another try cannot help
    assert len(jobs_of(atlas_emulator)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_the_task_clearly_and_leaves_the_job_running(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, mode
):
    atlas_emulator.ready_after = 3600

    result = atlas_dag_runner(
        TEST_DAGS, f"test_atlas_create_and_wait_timeout_{mode}", prepare(atlas_emulator)
    )

    assert result.task_states["create"] == "failed"
    [job] = jobs_of(atlas_emulator)
    assert f"Restore job {job['id']} of cluster {CLUSTER} was not done after timeout=1 s" in log_text()
    assert posts(atlas_emulator) == 1  # a timeout is not retried, as a sensor's is not
    assert job["cancelled"] is False


def test_a_killed_task_cancels_its_pending_download_restore(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    atlas_emulator.ready_after = 3600

    run_until_killed(atlas_dag_runner, "test_atlas_create_and_wait_killed_download", prepare(atlas_emulator))

    [job] = jobs_of(atlas_emulator)
    assert job["cancelled"] is True
    assert atlas_emulator.stats.count(route="cancel_restore_job", method="DELETE") >= 1
    assert f"cancelled its pending download restore job {job['id']}" in log_text()


@pytest.mark.parametrize("delivery_type", [kind for kind in DELIVERY_TYPES if kind != "download"])
def test_a_killed_task_leaves_an_overwriting_restore_and_says_atlas_cannot_cancel_it(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, delivery_type
):
    run_conf = prepare(atlas_emulator, delivery_type)
    atlas_emulator.ready_after = 3600

    run_until_killed(atlas_dag_runner, f"test_atlas_create_and_wait_killed_{delivery_type}", run_conf)

    [job] = jobs_of(atlas_emulator)
    assert job["cancelled"] is False
    assert atlas_emulator.stats.count(route="cancel_restore_job") == 0
    assert (
        f"Atlas cannot cancel restore job {job['id']} of cluster {CLUSTER} ({delivery_type} restore): "
        "it goes on"
    ) in log_text()


def test_cancel_on_kill_false_leaves_the_download_restore_running(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    atlas_emulator.ready_after = 3600

    run_until_killed(atlas_dag_runner, "test_atlas_create_and_wait_killed_keep", prepare(atlas_emulator))

    [job] = jobs_of(atlas_emulator)
    assert job["cancelled"] is False
    assert atlas_emulator.stats.count(route="cancel_restore_job") == 0
    assert f"cancel_on_kill=False leaves restore job {job['id']} running" in log_text()


RUN_IN_A_CHILD = """
import json, sys
from airflow_provider_atlas_restore.testing.dag_runs import run_dag
result = run_dag(sys.argv[1], "test_atlas_create_and_wait_terminated", json.loads(sys.argv[2]))
print("TASK STATES", json.dumps(result.task_states))
"""


def test_a_task_sent_sigterm_while_it_waits_cancels_its_pending_download_restore(
    airflow_database, atlas_emulator, atlas_dag_runner
):
    atlas_emulator.ready_after = 3600
    # The DAG runs in a process of its own (the connection is in the environment it inherits),
    # which is sent SIGTERM once its task has seen the new job pending, as a worker stopping it.
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_IN_A_CHILD, str(TEST_DAGS), json.dumps(prepare(atlas_emulator))],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with after_first_look(atlas_emulator, lambda: child.send_signal(signal.SIGTERM)):
        output, _ = child.communicate(timeout=300)

    [job] = jobs_of(atlas_emulator)
    assert job["cancelled"] is True, output[-3000:]
    assert f"cancelled its pending download restore job {job['id']}" in output
    if AIRFLOW_V_3_0_PLUS:  # the task goes on after on_kill, sees its job cancelled and fails
        assert 'TASK STATES {"create": "failed"}' in output
    else:  # 2.11 ends it with AirflowTaskTerminated, a BaseException that dag.test() lets out
        assert "AirflowTaskTerminated: Task received SIGTERM signal" in output
