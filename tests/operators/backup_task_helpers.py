"""Helpers of the export and collection-restore task tests: acting after the first look, counting creates."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import TEST_DAGS

CLUSTER = "Cluster0"
TARGET = "Target0"
BUCKET = "exports-bucket"
MODES = ("poke", "deferrable")
#: Faults Atlas may answer with while a task waits: the wait must go on through them.
WAIT_FAULTS = {
    "429 storm": {"kind": "status", "status": 429, "retry_after": 1, "count": 6},
    "503s": {"kind": "status", "status": 503, "count": 4},
}


@contextmanager
def after_first_look(emulator: AtlasEmulator, route: str, action: Callable[[], Any]) -> Iterator[None]:
    """Run ``action`` in a thread once a task has read the resource of ``route`` once (seen it pending)."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 120
        while emulator.stats.count(route=route, status=200) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def creates(emulator: AtlasEmulator, route: str) -> int:
    """Return how many create requests of ``route`` reached the emulator's handler (answered or cut off)."""
    return sum(emulator.stats.count(route=route, method="POST", status=code) for code in (200, 201, 0))


def quick_retries(emulator: AtlasEmulator, monkeypatch: Any) -> None:
    """Point the default connection at the emulator with quick retries (a fault storm ends in seconds)."""
    import json

    seed = emulator.seed
    assert seed is not None
    connection = emulator.connection(group_id=seed.group_id)
    connection["extra"].update({"retry_initial_wait": 0.01, "retry_max_wait": 0.05, "retry_max_attempts": 2})
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))


def run_until_killed(
    dag_runner: Callable[..., Any], dag_id: str, run_conf: dict[str, Any], task_id: str
) -> None:
    """Run a DAG whose task its ``execution_timeout`` kills while it waits; check it failed."""
    from airflow.providers.common.compat.sdk import AirflowTaskTimeout

    try:
        result = dag_runner(TEST_DAGS, dag_id, run_conf)
    except AirflowTaskTimeout:
        # Airflow 2.11's dag.test() lets the timeout (a BaseException) out once the task is failed.
        assert not AIRFLOW_V_3_0_PLUS
        return
    assert result.task_states[task_id] == "failed"
