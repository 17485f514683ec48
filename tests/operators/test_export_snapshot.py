"""AtlasExportSnapshotOperator exporting a snapshot into a bucket and waiting, run by Airflow (dag.test) against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.models.export_bucket import OBJECT_STORAGE_SCHEMES
from tests.conftest import TEST_DAGS
from tests.operators.backup_task_helpers import (
    BUCKET,
    CLUSTER,
    MODES,
    WAIT_FAULTS,
    after_first_look,
    creates,
    quick_retries,
    run_until_killed,
)

IN_PROGRESS = 600.0


@pytest.fixture
def bucket(atlas_emulator) -> dict:
    """An AWS export bucket of the seeded project, and every export taking 10 clock minutes."""
    atlas_emulator.backup_timings.export_in_progress = IN_PROGRESS
    return atlas_emulator.add_export_bucket(atlas_emulator.seed.group_id, BUCKET)


def exports_of(emulator) -> list[dict]:
    """Return the cluster's export jobs as a GET shows them now, oldest first."""
    seed = emulator.seed
    return [
        emulator.export_job(seed.group_id, CLUSTER, export_id)
        for export_id in emulator.store.backups.exports.get((seed.group_id, CLUSTER), {})
    ]


def finish_exports(emulator) -> None:
    emulator.clock.advance(IN_PROGRESS + 1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("by", ["name", "id"])
def test_export_waits_until_successful_and_returns_bucket_prefix_and_uri(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, resource_triggers_run, log_text, mode, by
):
    dag_id = (
        f"test_atlas_export_snapshot_{mode}" if by == "name" else f"test_atlas_export_snapshot_by_id_{mode}"
    )
    with after_first_look(atlas_emulator, "get_export_job", lambda: finish_exports(atlas_emulator)):
        result = atlas_dag_runner(TEST_DAGS, dag_id, {"bucket_id": bucket["_id"]})

    assert result.state == "success", result.task_states
    [job] = exports_of(atlas_emulator)
    value = result.xcom["export"]
    assert job["state"] == value["state"] == "Successful"
    assert job["snapshotId"] == value["snapshot_id"] == atlas_emulator.seed.snapshot_id  # "latest"
    assert job["customData"] == [{"key": "pipeline", "value": "nightly"}]
    assert (value["export_job_id"], value["export_bucket_id"]) == (job["id"], bucket["_id"])
    assert (value["bucket_name"], value["cloud_provider"], value["prefix"]) == (BUCKET, "AWS", job["prefix"])
    assert value["uri"] == f"s3://{BUCKET}/{job['prefix']}"
    assert value["components"] == []
    assert value["finished_at"] is not None
    assert [run["kind"] for run in resource_triggers_run] == (["export_job"] if mode == "deferrable" else [])
    assert f"The export is at s3://{BUCKET}/" in log_text() or mode == "deferrable"


@pytest.mark.parametrize("provider", sorted(OBJECT_STORAGE_SCHEMES))
def test_the_uri_has_the_object_storage_scheme_of_the_bucket_provider(
    airflow_database, atlas_emulator, atlas_dag_runner, provider
):
    atlas_emulator.add_export_bucket(atlas_emulator.seed.group_id, BUCKET, provider)

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_export_snapshot_poke")

    value = result.xcom["export"]
    assert value["uri"] == f"{OBJECT_STORAGE_SCHEMES[provider]}://{BUCKET}/{value['prefix']}"


def test_a_sharded_cluster_export_returns_one_component_per_shard(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket
):
    seed = atlas_emulator.seed
    atlas_emulator.add_cluster(seed.group_id, "Sharded0", sharded=True, shards=2)
    atlas_emulator.add_snapshot(seed.group_id, "Sharded0", created_at=atlas_emulator.clock.now() - 60)
    atlas_emulator.backup_timings.export_in_progress = 0

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_export_snapshot_poke", {"cluster": "Sharded0"})

    assert result.state == "success", result.task_states
    components = result.xcom["export"]["components"]
    assert len(components) == 2
    assert all(item["export_id"] and item["replica_set_name"] for item in components)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", ["Failed", "Cancelled"])
def test_a_failed_export_fails_the_task_at_once_with_atlas_reason_and_no_retry(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, log_text, mode, state
):
    seed = atlas_emulator.seed

    def end_the_export() -> None:
        [job] = exports_of(atlas_emulator)
        atlas_emulator.set_export_job_state(
            seed.group_id, CLUSTER, job["id"], state, error_code="BUCKET_ACCESS", message="Access denied."
        )

    with after_first_look(atlas_emulator, "get_export_job", end_the_export):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_export_snapshot_{mode}")

    assert result.task_states["export"] == "failed"
    [job] = exports_of(atlas_emulator)
    assert (
        f"Export job {job['id']} of cluster {CLUSTER} is {state}: Access denied (BUCKET_ACCESS)."
        in log_text()
    )
    assert creates(atlas_emulator, "create_export_job") == 1  # the task has a retry, but it cannot help


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_the_task_clearly_and_the_export_goes_on(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, log_text, mode
):
    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_export_snapshot_timeout_{mode}")

    assert result.task_states["export"] == "failed"
    [job] = exports_of(atlas_emulator)
    assert job["state"] == "InProgress"
    assert f"Export job {job['id']} of cluster {CLUSTER} was not done after timeout=1 s" in log_text()
    assert creates(atlas_emulator, "create_export_job") == 1


def test_a_killed_task_says_atlas_cannot_cancel_the_export(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, log_text
):
    run_until_killed(atlas_dag_runner, "test_atlas_export_snapshot_killed", {}, "export")

    [job] = exports_of(atlas_emulator)
    assert job["state"] == "InProgress"
    assert "Atlas has no cancel for export jobs" in log_text()


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_the_answer_was_lost_adopts_the_export(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, log_text, mode
):
    atlas_emulator.faults.add(route="create_export_job", kind="reset", method="POST")
    with after_first_look(atlas_emulator, "get_export_job", lambda: finish_exports(atlas_emulator)):
        result = atlas_dag_runner(TEST_DAGS, f"test_atlas_export_snapshot_{mode}")

    assert result.state == "success", result.task_states
    [job] = exports_of(atlas_emulator)  # one export on the emulator: the retry started none
    assert creates(atlas_emulator, "create_export_job") == 1
    assert result.xcom["export"]["export_job_id"] == job["id"]
    assert f"Adopting export job {job['id']} started by an earlier try" in log_text()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", sorted(WAIT_FAULTS))
def test_the_wait_goes_on_through_rate_limits_and_unavailable_answers(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, monkeypatch, mode, fault
):
    quick_retries(atlas_emulator, monkeypatch)
    atlas_emulator.faults.add(route="get_export_job", **WAIT_FAULTS[fault])
    atlas_emulator.backup_timings.export_in_progress = 0

    result = atlas_dag_runner(TEST_DAGS, f"test_atlas_export_snapshot_{mode}")

    assert result.state == "success", result.task_states
    status = WAIT_FAULTS[fault]["status"]
    assert atlas_emulator.stats.count(route="get_export_job", status=status) == WAIT_FAULTS[fault]["count"]
    assert result.xcom["export"]["state"] == "Successful"
    assert creates(atlas_emulator, "create_export_job") == 1


def test_a_flex_cluster_is_refused_before_any_export_request_and_not_retried(
    airflow_database, atlas_emulator, atlas_dag_runner, bucket, log_text
):
    from airflow_provider_atlas_restore.testing.seeding import seed_flex

    seed_flex(atlas_emulator, atlas_emulator.seed)

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_export_snapshot_poke", {"cluster": "Flex0"})

    assert result.task_states["export"] == "failed"
    assert "Cluster Flex0 is a flex cluster: Atlas has no snapshot export for flex clusters" in log_text()
    assert creates(atlas_emulator, "create_export_job") == 0
    assert atlas_emulator.stats.count(route="list_export_buckets") == 0  # refused before the bucket lookup
    assert atlas_emulator.stats.count(route="get_cluster", status=400) == 1  # asked once: no retry
