"""Helpers of the create-and-wait tests: the DAGs' run conf, the emulator's jobs, acting after the first look."""

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
DELIVERY_TYPES = ("download", "automated", "pointInTime")


def prepare(emulator: AtlasEmulator, delivery_type: str = "download") -> dict[str, Any]:
    """Add the target cluster and return the run conf of a create-and-wait DAG for ``delivery_type``."""
    seed = emulator.seed
    assert seed is not None
    if TARGET not in emulator.store.project(seed.group_id).clusters:
        emulator.add_cluster(seed.group_id, TARGET)
    return {
        "cluster": CLUSTER,
        "target": TARGET,
        "target_group": seed.group_id,
        "moment": str(int(emulator.clock.now()) - 3600),
    }


def jobs_of(emulator: AtlasEmulator, cluster: str = CLUSTER) -> list[dict[str, Any]]:
    """Return every restore job of ``cluster`` as a GET would show it now, oldest first."""
    seed = emulator.seed
    assert seed is not None
    order = list(emulator.store.cluster(seed.group_id, cluster).job_order)
    return [emulator.restore_job(seed.group_id, cluster, job_id) for job_id in order]


def newest_job_id(emulator: AtlasEmulator, cluster: str = CLUSTER) -> str:
    """Return the id of ``cluster``'s newest restore job."""
    return str(jobs_of(emulator, cluster)[-1]["id"])


@contextmanager
def after_first_look(emulator: AtlasEmulator, action: Callable[[], Any]) -> Iterator[None]:
    """Run ``action`` in a thread once a task has read a restore job (seen it pending)."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 120
        while emulator.stats.count(route="get_restore_job", status=200) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def posts(emulator: AtlasEmulator) -> int:
    """Return how many create requests reached the emulator's handler (answered or cut off)."""
    return emulator.stats.count(route="create_restore_job", status=200) + emulator.stats.count(
        route="create_restore_job", status=0
    )


def run_until_killed(dag_runner: Callable[..., Any], dag_id: str, run_conf: dict[str, Any]) -> None:
    """Run a DAG whose create task its ``execution_timeout`` kills while it waits; check it failed."""
    from airflow.providers.common.compat.sdk import AirflowTaskTimeout

    try:
        result = dag_runner(TEST_DAGS, dag_id, run_conf)
    except AirflowTaskTimeout:
        # Airflow 2.11's dag.test() lets the timeout (a BaseException) out once the task is failed.
        assert not AIRFLOW_V_3_0_PLUS
        return
    assert result.task_states["create"] == "failed"
