"""What the distributed run must show once the DAG run succeeded: tries, hosts, events and task logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from distributed_airflow import Worker
from example_dag import CREATE_TASK, DAG_ID, DOWNLOAD_TASK, REPORT_TASK
from failure import E2EFailure
from run_context import Run

ABORT_MESSAGE = "Aborted an unfinished upload of "
#: The first line of every task log: the task process logs it before it asks to start.
FIRST_EVENT = "::group::Pre Execute"


def check_first_try_tasks(run: Run) -> None:
    """Every task but the download succeeded at its first try (the deferred create task resumed, it was not retried).

    :param run: the run.
    """
    for task_id in (CREATE_TASK, REPORT_TASK):
        ti = run.api.task_instance(run.run_id, task_id)
        if not ti or ti["state"] != "success" or ti["try_number"] != 1:
            state = ti and (ti["state"], ti["try_number"])
            raise E2EFailure(f"task {task_id}: expected success at try 1, got (state, try) {state}")


def download_tries(run: Run) -> list[dict[str, Any]]:
    """The download task's tries, from ``/taskInstances/{task}/tries``, oldest first.

    :param run: the run.
    """
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run.run_id}/taskInstances/{DOWNLOAD_TASK}/tries"
    body = run.api.get(path) or {}
    tries: list[dict[str, Any]] = sorted(body.get("task_instances") or [], key=lambda ti: ti["try_number"])
    return tries


def check_tries(run: Run, killed: Worker, survivor: Worker) -> list[str]:
    """Two tries: the first failed on the killed worker, the second succeeded on the other.

    :param run: the run.
    :param killed: the worker killed mid-download.
    :param survivor: the other worker.
    """
    tries = download_tries(run)
    seen = [(ti["try_number"], ti["state"], ti["hostname"]) for ti in tries]
    expected = [(1, "failed", killed.name), (2, "success", survivor.name)]
    if seen != expected:
        raise E2EFailure(f"{DOWNLOAD_TASK} tries (try, state, host): {seen}; expected {expected}")
    return [
        f"{DOWNLOAD_TASK} try {number}: {state} on host {host} "
        f"({ti.get('start_date')} -> {ti.get('end_date')})"
        for (number, state, host), ti in zip(seen, tries, strict=True)
    ]


def check_heartbeat_timeout_event(run: Run) -> str:
    """The scheduler recorded that try 1 stopped heartbeating (how Airflow noticed the dead worker).

    :param run: the run.
    """
    query = f"dag_id={DAG_ID}&task_id={DOWNLOAD_TASK}&event={quote('heartbeat timeout')}"
    body = run.api.get(f"/api/v2/eventLogs?{query}") or {}
    events = [e for e in body.get("event_logs") or [] if e.get("run_id") in (run.run_id, None)]
    tries = sorted({e.get("try_number") for e in events}, key=str)
    if tries != [1]:
        raise E2EFailure(f"expected one 'heartbeat timeout' event for try 1 of {DOWNLOAD_TASK}, got {events}")
    return f"event log: 'heartbeat timeout' for {DOWNLOAD_TASK} try 1 ({events[0].get('extra')})"


def check_task_logs(run: Run, killed: Worker, survivor: Worker, uri: str) -> list[str]:
    """Try 1 ran only on the killed worker, try 2 only on the other, and it aborted the leftover upload.

    :param run: the run.
    :param killed: the worker killed mid-download.
    :param survivor: the other worker.
    :param uri: the object the kill left unfinished.
    """
    first = killed.task_log(DAG_ID, run.run_id, DOWNLOAD_TASK, 1)
    second = survivor.task_log(DAG_ID, run.run_id, DOWNLOAD_TASK, 2)
    if first is None:
        raise E2EFailure(f"{killed.name} has no log of {DOWNLOAD_TASK} attempt 1 in {killed.task_logs}")
    if second is None:
        raise E2EFailure(f"{survivor.name} has no log of {DOWNLOAD_TASK} attempt 2 in {survivor.task_logs}")
    if killed.task_log(DAG_ID, run.run_id, DOWNLOAD_TASK, 2) is not None:
        raise E2EFailure(f"{killed.name} ran {DOWNLOAD_TASK} attempt 2 too")
    refused = survivor.task_log(DAG_ID, run.run_id, DOWNLOAD_TASK, 1)
    if refused is not None and (events := _events(refused)) not in ([], [FIRST_EVENT]):
        # The redelivered message of try 1 starts a task process, refused before it runs anything.
        raise E2EFailure(f"{survivor.name} ran {DOWNLOAD_TASK} attempt 1 too: {events[:5]}")
    aborted = [event for event in _events(second) if event.startswith(f"{ABORT_MESSAGE}{uri} ")]
    if not aborted:
        raise E2EFailure(f"{second} does not say it aborted the unfinished upload of {uri}")
    message = aborted[0]
    return [
        f"{DOWNLOAD_TASK} attempt 1 logged only on {killed.name} ({first.stat().st_size:,} bytes, cut by the kill)",
        f"{DOWNLOAD_TASK} attempt 2 logged only on {survivor.name}: {message[:200]}",
    ]


def _events(log: Path) -> list[str]:
    """The messages of a task log (one JSON object a line)."""
    events = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            events.append(str(json.loads(line).get("event")))
        except (ValueError, AttributeError):
            events.append(line)
    return events


def count_lines(log: Path, *needles: str) -> int:
    """How many lines of ``log`` hold every one of ``needles``.

    :param log: the log file.
    :param needles: the strings a line must hold.
    """
    return sum(all(n in line for n in needles) for line in log.read_text(errors="replace").splitlines())


def check_one_transfer_a_try(emulator_log: Path, moto_log: Path, key: str) -> str:
    """The link was fetched once a try and the key's upload started once a try: nothing ran a third time.

    :param emulator_log: the emulator's request log.
    :param moto_log: moto's request log.
    :param key: ``bucket/key`` of the snapshot file.
    """
    fetched = count_lines(emulator_log, '"GET /backup/download/', ' HTTP/1.1" 200')
    cut = count_lines(emulator_log, "client went away after ")
    uploads = count_lines(moto_log, f'"POST /{key}?uploads ')
    if fetched != 2 or uploads != 2:
        raise E2EFailure(
            f"expected the link fetched twice and two uploads of {key} (one a try), got {fetched} and {uploads}"
        )
    return f"the link was fetched twice ({cut} transfer cut by the kill) and {key} got two uploads: one a try"
