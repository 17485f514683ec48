"""Flex and dedicated clusters in one DAG run by Airflow, every task with cluster_type="auto".

List, create-and-wait (poke and deferrable), the sensor (poke and deferrable), cancel (refused on
flex) and a flex job that FAILS. Each task has a cluster of its own, so the emulator's request
log, read by path, counts each task's requests: telling a flex cluster costs one refused
request per task, a dedicated one nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import run_dag
from airflow_provider_atlas_restore.testing.stats import AnsweredRequest
from tests.conftest import TEST_DAGS
from tests.operators.download_helpers import CONN_ID

DAG_ID = "test_atlas_flex_restore_jobs"
FLEX_TASKS = {
    "list_flex": "FlexList",
    "create_flex_poke": "FlexPoke",
    "create_flex_deferrable": "FlexDefer",
    "wait_flex_poke": "FlexWaitPoke",
    "wait_flex_deferrable": "FlexWaitDefer",
    "cancel_flex": "FlexCancel",
    "create_flex_failed": "FlexFailed",
}
DEDICATED_TASKS = {
    "list_dedicated": "DedList",
    "create_dedicated_poke": "DedPoke",
    "create_dedicated_deferrable": "DedDefer",
    "wait_dedicated_poke": "DedWaitPoke",
    "wait_dedicated_deferrable": "DedWaitDefer",
}
FAILED_TASKS = {"cancel_flex", "create_flex_failed"}
_JOB_PATH = re.compile(
    r"/groups/(?P<group>[^/]+)/(?:flexClusters|clusters)/(?P<cluster>[^/]+)/backup/restoreJobs/(?P<job>[^/]+)$"
)


def answered(emu: AtlasEmulator, family: str, cluster: str) -> list[AnsweredRequest]:
    """Return the answers about ``cluster`` through the cluster API (``clusters``) or the flex API (``flexClusters``)."""
    about = re.compile(rf"/{family}/{cluster}(/|$)")
    return [r for r in emu.stats.requests() if about.search(r.path) and r.status != 401]


@pytest.fixture
def clusters(emu: AtlasEmulator, group_id: str) -> dict[str, str]:
    """Add every cluster of the DAG; return the job each sensor and the cancel task read, by cluster."""
    emu.ready_after = 10**6  # jobs created over HTTP stay pending until a task has looked at them
    emu.add_flex_cluster(group_id, "FlexTarget")
    jobs: dict[str, str] = {}
    for name in FLEX_TASKS.values():
        emu.add_flex_cluster(group_id, name)
        emu.add_flex_snapshot(group_id, name)
    for name in DEDICATED_TASKS.values():
        emu.add_cluster(group_id, name)
        emu.add_snapshot(group_id, name)
    for name in ("FlexList", "FlexWaitPoke", "FlexWaitDefer", "FlexCancel"):
        jobs[name] = emu.add_flex_restore_job(
            group_id, name, ready_after=10**6, target_cluster_name="FlexTarget"
        )["id"]
    for name in ("DedList", "DedWaitPoke", "DedWaitDefer"):
        jobs[name] = emu.add_restore_job(group_id, name, ready_after=10**6)["id"]
    return jobs


@pytest.fixture
def jobs_end_once_looked_at(emu: AtlasEmulator, group_id: str) -> Iterator[None]:
    """Finish each job once a task has read it pending (FlexFailed's job fails instead)."""
    stop = threading.Event()

    def watch() -> None:
        ended: set[str] = set()
        while not stop.wait(0.01):
            for request in emu.stats.requests():
                found = _JOB_PATH.search(request.path)
                if request.method != "GET" or request.status != 200 or not found or found["job"] in ended:
                    continue
                ended.add(found["job"])
                cluster = found["cluster"]
                if cluster == "FlexFailed":
                    emu.set_job_state(group_id, cluster, found["job"], "FAILED")
                elif cluster not in ("FlexList", "DedList"):
                    emu.finish_job(group_id, cluster, found["job"])

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_flex_and_dedicated_clusters_in_one_dag_each_task_telling_the_kind_at_most_once(
    airflow_database, emu, group_id, connect, clusters, jobs_end_once_looked_at, triggers_run, log_text
):
    result = run_dag(TEST_DAGS, DAG_ID, {"conn_id": CONN_ID, "group_id": group_id, "jobs": clusters})
    logged = log_text()

    # Every task ends as its cluster's kind allows: cancel is refused on flex, a FAILED flex job fails.
    assert result.task_states == {
        task: "failed" if task in FAILED_TASKS else "success" for task in {**FLEX_TASKS, **DEDICATED_TASKS}
    }
    # A flex cluster costs each task one refused request to the cluster API; a dedicated one nothing.
    for task, cluster in FLEX_TASKS.items():
        refused = answered(emu, "clusters", cluster)
        assert [(r.status, r.method) for r in refused] == [(400, "GET")], (task, refused)
        assert answered(emu, "flexClusters", cluster) or task == "cancel_flex", task
    for task, cluster in DEDICATED_TASKS.items():
        assert answered(emu, "flexClusters", cluster) == [], task
        seen = answered(emu, "clusters", cluster)
        assert seen, task
        assert all(r.status == 200 and r.route != "get_cluster" for r in seen), (task, seen)
    # The create and sensor results have one shape for both families.
    xcom = result.xcom
    # The lists are the jobs as each API answers them (a flex job has a status, a dedicated one flags).
    assert [(job["id"], job["status"]) for job in xcom["list_flex"]] == [(clusters["FlexList"], "PENDING")]
    assert [job["id"] for job in xcom["list_dedicated"]] == [clusters["DedList"]]
    for mode, name in (("poke", "Poke"), ("deferrable", "Defer")):
        flex, dedicated = xcom[f"create_flex_{mode}"], xcom[f"create_dedicated_{mode}"]
        assert flex.keys() == dedicated.keys()
        assert (flex["state"], dedicated["state"]) == ("finished", "ready")
        waited = xcom[f"wait_flex_{mode}"]
        assert (waited["restore_job_id"], waited["state"]) == (clusters[f"FlexWait{name}"], "finished")
        assert waited.keys() == xcom[f"wait_dedicated_{mode}"].keys()
    # The deferrable tasks waited in the triggerer, with the kind found before deferring.
    kinds = {run["cluster_name"]: run.get("cluster_kind") for run in triggers_run}
    assert kinds == {
        "FlexDefer": "flex",
        "DedDefer": "dedicated",
        "FlexWaitDefer": "flex",
        "DedWaitDefer": "dedicated",
    }
    # Cancel on flex: refused by kind, no DELETE sent, the job untouched.
    assert "AtlasClusterKindError" in logged
    assert [r for r in emu.stats.requests() if r.method == "DELETE"] == []
    assert emu.restore_job(group_id, "FlexCancel", clusters["FlexCancel"])["status"] == "PENDING"
    # A FAILED flex job fails its task with the reason.
    assert re.search(
        r"Restore job [0-9a-f]{24} of cluster FlexFailed is failed: it will never be ready", logged
    )
