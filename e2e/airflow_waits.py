"""Waits on Airflow's state through its REST API: the api-server, the parsed DAG, the DAG run's tasks."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from airflow_api import raise_if_failed
from example_dag import CREATE_TASK, DAG_ID, TASK_IDS
from failure import E2EFailure
from run_context import Run


def wait_for_api(run: Run, password: str) -> None:
    """Wait until the api-server answers and lets the e2e user log in."""

    def healthy() -> bool | None:
        body = run.api.get("/api/v2/monitor/health")
        return True if body and run.api.log_in(password) else None

    run.wait_for("the api-server to answer and accept the e2e user", healthy, timeout=120)


def wait_for_dag(run: Run) -> None:
    """Wait until the dag-processor has parsed the example DAG; fail on an import error."""

    def parsed() -> bool | None:
        errors = run.api.get("/api/v2/importErrors")
        if errors and errors.get("import_errors"):
            details = "\n".join(str(item.get("stack_trace")) for item in errors["import_errors"])
            raise E2EFailure(f"the dag-processor could not import the DAG file:\n{details}")
        dag = run.api.get(f"/api/v2/dags/{DAG_ID}")
        return True if dag else None

    run.wait_for(f"the dag-processor to parse DAG {DAG_ID}", parsed, timeout=120)


def wait_for_deferral(run: Run) -> dict[str, Any]:
    """Wait until the create task, having started the restore, is deferred and a triggerer runs its trigger.

    Returns the task instance.
    """

    def deferred() -> dict[str, Any] | None:
        ti = run.api.task_instance(run.run_id, CREATE_TASK)
        if ti is None or ti["state"] is None:
            return None
        raise_if_failed(ti)
        if ti["state"] == "success":
            raise E2EFailure(
                f"{CREATE_TASK} succeeded before it was seen deferred: give the download more "
                f"time (--ready-after, now {run.settings.ready_after:g} s)"
            )
        trigger = ti.get("trigger") or {}
        return ti if ti["state"] == "deferred" and trigger.get("triggerer_id") else None

    return run.wait_for(f"{CREATE_TASK} to be deferred, its trigger in the triggerer", deferred, timeout=180)


def seconds_until_ready(run: Run) -> float:
    """Wall-clock seconds at least until the emulator makes the restore job's download ready.

    The job was created while ``create_restore`` ran, so not before that task started.
    """
    created = run.api.task_instance(run.run_id, CREATE_TASK) or {}
    if not created.get("start_date"):
        raise E2EFailure(f"{CREATE_TASK} has no start date while deferred: {created}")
    started = datetime.fromisoformat(str(created["start_date"]).replace("Z", "+00:00"))
    return started.timestamp() + run.settings.ready_after - time.time()


def wait_for_takeover(run: Run, old_triggerer_id: int) -> str:
    """Wait until another triggerer holds the trigger (or has already fired it); say which."""

    def taken_over() -> str | None:
        ti = run.api.task_instance(run.run_id, CREATE_TASK)
        if ti is None:
            return None
        raise_if_failed(ti)
        if ti["state"] != "deferred":
            return f"the new triggerer fired the trigger ({CREATE_TASK} is {ti['state']})"
        trigger = ti.get("trigger") or {}
        owner = trigger.get("triggerer_id")
        if owner is not None and owner != old_triggerer_id:
            return f"trigger {trigger['id']} moved from triggerer job {old_triggerer_id} to {owner}"
        return None

    return run.wait_for("the new triggerer to take the orphaned trigger over", taken_over, timeout=120)


def wait_for_run(run: Run) -> str:
    """Wait until the DAG run has finished; fail, with every task's state, unless it succeeded."""

    def finished() -> str | None:
        dag_run = run.api.dag_run(run.run_id)
        state = dag_run.get("state") if dag_run else None
        return str(state) if state in ("success", "failed") else None

    state = run.wait_for(f"DAG run {run.run_id} to finish", finished, timeout=240, interval=1.0)
    if state != "success":
        states = []
        for task_id in TASK_IDS:
            ti = run.api.task_instance(run.run_id, task_id) or {}
            states.append(f"{task_id}={ti.get('state')}")
        raise E2EFailure(f"DAG run {run.run_id} ended {state}: {', '.join(states)}")
    return state


def check_task_instances(run: Run) -> None:
    """Every task succeeded at its first try: the deferred create task resumed, it was not retried."""
    for task_id in TASK_IDS:
        ti = run.api.task_instance(run.run_id, task_id)
        if not ti or ti["state"] != "success" or ti["try_number"] != 1:
            state = ti and (ti["state"], ti["try_number"])
            raise E2EFailure(f"task {task_id}: expected success at try 1, got (state, try) {state}")
