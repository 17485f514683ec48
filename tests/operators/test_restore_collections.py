"""AtlasRestoreCollectionsOperator restoring collections and waiting, run by Airflow (dag.test) against the emulator."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_DAGS
from tests.operators.backup_task_helpers import (
    CLUSTER,
    MODES,
    TARGET,
    WAIT_FAULTS,
    after_first_look,
    creates,
    quick_retries,
    run_until_killed,
)

INITIALIZING, IN_PROGRESS, FINALIZING = 10.0, 100.0, 10.0
ROUTE = "get_collection_restore_job"


@pytest.fixture
def target(atlas_emulator) -> str:
    """The target cluster, and every collection restore taking 2 clock minutes."""
    timings = atlas_emulator.backup_timings
    timings.collection_restore_initializing = INITIALIZING
    timings.collection_restore_in_progress = IN_PROGRESS
    timings.collection_restore_finalizing = FINALIZING
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, TARGET)
    return TARGET


def jobs_of(emulator) -> list[dict]:
    """Return the cluster's collection restore jobs as a GET shows them now, oldest first."""
    seed = emulator.seed
    return [
        emulator.collection_restore_job(seed.group_id, CLUSTER, job_id)
        for job_id in emulator.store.backups.collection_restores.get((seed.group_id, CLUSTER), {})
    ]


def instant(emulator) -> None:
    """Make every collection restore done at its first look."""
    for phase in ("initializing", "in_progress", "finalizing"):
        setattr(emulator.backup_timings, f"collection_restore_{phase}", 0.0)


def step_through(emulator) -> None:
    """Move the clock through the restore in steps, each after the task has looked again."""
    import time

    for step in (INITIALIZING, IN_PROGRESS / 2, IN_PROGRESS / 2, FINALIZING):
        seen = emulator.stats.count(route=ROUTE, status=200)
        deadline = time.monotonic() + 60
        while emulator.stats.count(route=ROUTE, status=200) <= seen and time.monotonic() < deadline:
            time.sleep(0.01)
        emulator.clock.advance(step)


@pytest.mark.parametrize("mode", MODES)
def test_restore_waits_until_successful_and_returns_the_document_counts(
    airflow_database, atlas_emulator, atlas_dag_runner, target, resource_triggers_run, log_text, mode
):
    with after_first_look(atlas_emulator, ROUTE, lambda: step_through(atlas_emulator)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_restore_collections_{mode}")

    assert result.state == "success", result.task_states
    [job] = jobs_of(atlas_emulator)
    value = result.xcom["restore"]
    assert job["state"] == value["state"] == "SUCCESSFUL"
    assert job["snapshotId"] == atlas_emulator.seed.snapshot_id  # "latest"
    assert job["collections"] == [
        {"sourceNamespace": "sales.orders", "targetNamespace": "staging.orders"},
        {"sourceNamespace": "sales.customers"},
    ]
    assert (job["targetClusterName"], job["targetGroupId"]) == (TARGET, atlas_emulator.seed.group_id)
    assert value["collection_restore_job_id"] == job["id"]
    assert value["restored_documents"] == value["total_documents"] == job["totalDocuments"] > 0
    assert value["target_cluster_name"] == TARGET
    assert [run["kind"] for run in resource_triggers_run] == (
        ["collection_restore_job"] if mode == "deferrable" else []
    )
    if mode == "poke":
        line = re.compile(
            rf"Collection restore job {job['id']} is ([A-Z_]+: [\d,]+ of [\d,]+ documents restored( \(\d+%\))?)"
        )
        progress = [found.group(1) for found in line.finditer(log_text())]
        assert progress == sorted(set(progress), key=progress.index)  # each change once
        assert progress[0].startswith("INITIALIZING: 0 of")
        assert progress[-1].startswith("SUCCESSFUL:")
        assert progress[-1].endswith("(100%)")
        assert any(line.startswith("IN_PROGRESS:") for line in progress)


def test_point_in_time_restore_of_a_database_with_a_suffix_overwrites_when_confirmed(
    airflow_database, atlas_emulator, atlas_dag_runner, target
):
    instant(atlas_emulator)
    moment = str(int(atlas_emulator.clock.now()) - 3600)

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_restore_collections_point_in_time", {"moment": moment})

    assert result.state == "success", result.task_states
    [job] = jobs_of(atlas_emulator)
    assert job["pointInTimeUtcSeconds"] == int(moment)
    assert "snapshotId" not in job
    assert (job["writeStrategy"], job["indexStrategy"]) == ("OVERWRITE_EXISTING", "ALL_EXCEPT_TTL")
    assert (job["databases"], job["databaseSuffix"]) == ([{"sourceNamespace": "sales"}], "_restored")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", ["FAILED", "CANCELED"])
def test_a_failed_restore_fails_at_once_naming_the_collections_not_restored(
    airflow_database, atlas_emulator, atlas_dag_runner, target, log_text, mode, state
):
    seed = atlas_emulator.seed

    def fail_it() -> None:
        atlas_emulator.clock.advance(INITIALIZING + 1)
        [job] = jobs_of(atlas_emulator)
        atlas_emulator.fail_collection_restore_job(
            seed.group_id,
            CLUSTER,
            job["id"],
            "Target cluster ran out of disk.",
            collection_states={"sales.customers": "NOT_FOUND"},
            state=state,
        )

    with after_first_look(atlas_emulator, ROUTE, fail_it):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_restore_collections_{mode}")

    assert result.task_states["restore"] == "failed"
    [job] = jobs_of(atlas_emulator)
    logged = log_text()
    assert (
        f"Collection restore job {job['id']} of cluster {CLUSTER} is {state}: Target cluster ran out of disk"
        in logged
    )
    assert "collections not restored: sales.orders FAILED, sales.customers NOT_FOUND" in logged
    assert atlas_emulator.stats.count(route="list_restored_collections", status=200) >= 1
    assert creates(atlas_emulator, "create_collection_restore_job") == 1  # a retry cannot help


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_the_task_clearly_and_the_restore_goes_on(
    airflow_database, atlas_emulator, atlas_dag_runner, target, log_text, mode
):
    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_restore_collections_timeout_{mode}")

    assert result.task_states["restore"] == "failed"
    [job] = jobs_of(atlas_emulator)
    assert job["state"] == "INITIALIZING"
    assert (
        f"Collection restore job {job['id']} of cluster {CLUSTER} was not done after timeout=1 s"
        in log_text()
    )
    assert creates(atlas_emulator, "create_collection_restore_job") == 1


def test_a_killed_task_says_atlas_has_no_cancel_for_collection_restores(
    airflow_database, atlas_emulator, atlas_dag_runner, target, log_text
):
    run_until_killed(atlas_dag_runner, "test_atlas_restore_collections_killed", {}, "restore")

    [job] = jobs_of(atlas_emulator)
    assert job["state"] == "INITIALIZING"
    logged = log_text()
    assert "Atlas has no cancel for collection restore jobs" in logged
    assert f"writes to target cluster {TARGET}" in logged


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_the_answer_was_lost_adopts_the_restore(
    airflow_database, atlas_emulator, atlas_dag_runner, target, log_text, mode
):
    atlas_emulator.faults.add(route="create_collection_restore_job", kind="reset", method="POST")
    with after_first_look(atlas_emulator, ROUTE, lambda: atlas_emulator.clock.advance(600)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_restore_collections_{mode}")

    assert result.state == "success", result.task_states
    [job] = jobs_of(atlas_emulator)  # one job on the emulator: the retry started none
    assert creates(atlas_emulator, "create_collection_restore_job") == 1
    assert result.xcom["restore"]["collection_restore_job_id"] == job["id"]
    assert f"Adopting collection restore job {job['id']} started by an earlier try" in log_text()


def test_a_retry_does_not_adopt_a_restore_of_other_collections(
    airflow_database, atlas_emulator, atlas_dag_runner, target, monkeypatch
):
    from airflow_provider_atlas_restore.hooks.collection_restores import CollectionRestoreOperations

    seed = atlas_emulator.seed
    real_create = CollectionRestoreOperations.create_collection_restore_job
    calls: list[str] = []

    def other_job_then_die(self, cluster_name, spec, group_id=None):
        calls.append(cluster_name)
        if len(calls) == 1:
            body = {**spec.to_body(), "collections": [{"sourceNamespace": "sales.returns"}]}
            atlas_emulator.add_collection_restore_job(seed.group_id, cluster_name, body)
            raise RuntimeError("the worker was lost before its own POST")
        return real_create(self, cluster_name, spec, group_id)

    monkeypatch.setattr(CollectionRestoreOperations, "create_collection_restore_job", other_job_then_die)
    instant(atlas_emulator)

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_restore_collections_poke")

    assert result.state == "success", result.task_states
    other, own = jobs_of(atlas_emulator)
    assert result.xcom["restore"]["collection_restore_job_id"] == own["id"] != other["id"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", sorted(WAIT_FAULTS))
def test_the_wait_goes_on_through_rate_limits_and_unavailable_answers(
    airflow_database, atlas_emulator, atlas_dag_runner, target, monkeypatch, mode, fault
):
    quick_retries(atlas_emulator, monkeypatch)
    atlas_emulator.faults.add(route=ROUTE, **WAIT_FAULTS[fault])
    instant(atlas_emulator)

    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_restore_collections_{mode}")

    assert result.state == "success", result.task_states
    status = WAIT_FAULTS[fault]["status"]
    assert atlas_emulator.stats.count(route=ROUTE, status=status) == WAIT_FAULTS[fault]["count"]
    assert result.xcom["restore"]["state"] == "SUCCESSFUL"
    assert creates(atlas_emulator, "create_collection_restore_job") == 1
