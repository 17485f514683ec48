"""Celery's messages in Redis: the one the killed worker never acknowledged, and its redelivery.

Airflow's Celery settings take a message off the queue into Redis's ``unacked`` hash and
acknowledge it only when the task has finished (``task_acks_late``). A worker killed mid-task
never acknowledges it; once it is older than the broker's ``visibility_timeout``, kombu's
``restore_visible`` puts it back on the queue and a worker runs it again. Each consuming worker
calls that about every 100 s (every tenth call of a 10 s timer); the run calls the same kombu
function itself as soon as the message is old enough, then shows Airflow refusing to run the
try again.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from distributed_airflow import Worker
from distributed_services import Redis
from failure import E2EFailure
from run_context import Run

UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"


@dataclass(frozen=True)
class TakenMessage:
    """A Celery message a worker took from the queue: its Celery task id and the task instance it runs."""

    celery_id: str
    task_id: str
    try_number: int
    ti_id: str
    taken_at: float  # when the worker took it (epoch seconds: its score in ``unacked_index``)


def taken_messages(redis: Redis) -> list[TakenMessage]:
    """Every message in the ``unacked`` hash, with the task instance of its workload.

    :param redis: the broker.
    """
    lines = [line for line in redis.cli("HGETALL", UNACKED_KEY).splitlines() if line]  # none: one empty line
    messages = []
    for tag, raw in zip(lines[0::2], lines[1::2], strict=True):  # tag, value, tag, value...
        payload, _exchange, _routing_key = json.loads(raw)
        taken_at = float(redis.cli("ZSCORE", UNACKED_INDEX_KEY, tag).strip() or 0)
        messages.append(_taken(payload, taken_at))
    return messages


def _taken(payload: dict[str, Any], taken_at: float) -> TakenMessage:
    body = (
        base64.b64decode(payload["body"]) if payload["properties"].get("body_encoding") == "base64" else b""
    )
    args = json.loads(body)[0] if body else []
    workload = json.loads(args[0]) if args and isinstance(args[0], str) else {}
    ti = workload.get("ti") or {}
    return TakenMessage(
        celery_id=str(payload["headers"].get("id")),
        task_id=str(ti.get("task_id")),
        try_number=int(ti.get("try_number") or 0),
        ti_id=str(ti.get("id")),
        taken_at=taken_at,
    )


def message_of_try(redis: Redis, task_id: str, try_number: int) -> TakenMessage:
    """The unacknowledged message of ``task_id``'s try ``try_number``; fail when there is none.

    :param redis: the broker.
    :param task_id: the task.
    :param try_number: the try.
    """
    messages = taken_messages(redis)
    for message in messages:
        if message.task_id == task_id and message.try_number == try_number:
            return message
    raise E2EFailure(f"no unacknowledged message of {task_id} try {try_number} in Redis: {messages}")


def redeliver_when_expired(run: Run, redis: Redis, message: TakenMessage, visibility_timeout: float) -> None:
    """Once ``message`` is older than the visibility timeout, run kombu's ``restore_visible`` on the broker.

    :param run: the run (its time budget).
    :param redis: the broker.
    :param message: the message to wait for.
    :param visibility_timeout: the broker's, in seconds.
    """
    from kombu import Connection

    wait = message.taken_at + visibility_timeout + 1 - time.time()
    if wait > run.deadline.remaining():
        raise E2EFailure(f"the visibility timeout of {message.celery_id} ends after the run's time budget")
    time.sleep(max(wait, 0))
    options = {"visibility_timeout": visibility_timeout}
    with Connection(redis.url, transport_options=options) as connection:
        connection.default_channel.qos.restore_visible(num=100, interval=1)


def wait_for_redelivery(run: Run, worker: Worker, message: TakenMessage, timeout: float) -> str:
    """Wait until ``worker`` got ``message`` again and Airflow refused to run it; say how it refused.

    Airflow gives each try a new task-instance id, so the old try's workload names one that is gone
    (404 ``not_found``); a try still running elsewhere is refused too (409, or Celery's Ignore).

    :param run: the run.
    :param worker: the worker that gets it.
    :param message: the message.
    :param timeout: seconds to wait.
    """
    log = run.components.named(worker.name).log_path
    received = f"execute_workload[{message.celery_id}] received"
    done_marks = (
        f"execute_workload[{message.celery_id}] raised",
        f"execute_workload[{message.celery_id}] succeeded",
        f"[{message.celery_id}] Task already running elsewhere",
    )

    def handled() -> list[str] | None:
        lines = log.read_text(errors="replace").splitlines()
        if not any(received in line for line in lines):
            return None
        done = next((index for index, line in enumerate(lines) if any(m in line for m in done_marks)), None)
        return None if done is None else lines[done:]

    lines = run.wait_for(f"the redelivery of {message.celery_id} to {worker.name}", handled, timeout=timeout)
    if "Task already running elsewhere" in lines[0]:
        return "Celery ignored it: the try runs elsewhere"
    detail = next((line for line in lines if line.startswith("Server error detail:")), "")
    if " raised " in lines[0] and ("'not_found'" in detail or "'invalid_state'" in detail):
        return f"the api-server refused to start it: {detail.removeprefix('Server error detail: ')}"
    raise E2EFailure(f"{worker.name} did not refuse the redelivered message {message.celery_id}: {lines[:3]}")
