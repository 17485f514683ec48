"""The example DAGs, run by Airflow (dag.test) end to end against the emulator."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import load_dag, run_dag
from airflow_provider_atlas_restore.testing.seeding import seed_basic
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import EXAMPLE_DAGS
from tests.storage_servers import object_keys, unfinished_uploads

PIPELINE = "atlas_snapshot_download"
EXISTING_RESTORE = "atlas_wait_for_existing_restore"


@pytest.mark.parametrize(
    ("dag_id", "task_ids"),
    [
        (PIPELINE, ["create_restore", "download", "report"]),
        (EXISTING_RESTORE, ["start_restore", "wait_for_restore", "download"]),
        ("atlas_flex_snapshot_download", ["restore_flex", "download", "report"]),
    ],
)
def test_example_dags_parse_without_errors(dag_id, task_ids):
    dag = load_dag(EXAMPLE_DAGS, dag_id)

    assert [task.task_id for task in dag.topological_sort()] == task_ids


def test_the_pipeline_waits_in_its_create_task_not_in_a_sensor():
    dag = load_dag(EXAMPLE_DAGS, PIPELINE)

    create = dag.get_task("create_restore")
    assert (create.wait_for_completion, create.deferrable) == (True, True)
    assert not [task for task in dag.tasks if task.task_type == "AtlasRestoreJobSensor"]


@pytest.fixture
def live_emulator(monkeypatch):
    """An emulator on wall time whose new restore jobs are ready 1 s after they start."""
    with AtlasEmulator(ready_after=1.0) as emulator:
        seed = seed_basic(emulator, size_bytes=256 * 1024)
        connection = emulator.connection(group_id=seed.group_id)
        connection["extra"]["allow_http_downloads"] = True
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
        yield emulator


def check_downloaded_whole(entry: dict[str, Any], folder: Path, job_id: str) -> None:
    """The file the download reported is in ``folder``, named after the job, of its size and sha256, a whole archive."""
    path = Path(entry["path"])
    assert path.parent == folder
    assert path.name == f"restore-{job_id}.tar.gz"
    assert entry["bytes"] == path.stat().st_size
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    with tarfile.open(path, "r:gz") as archive:
        assert archive.getmembers()


def test_pipeline_downloads_the_newest_snapshot_whole(airflow_database, live_emulator, tmp_path):
    seed = live_emulator.seed

    result = run_dag(EXAMPLE_DAGS, PIPELINE, {"destination": str(tmp_path / "out")})

    assert result.state == "success", result.task_states
    waited = result.xcom["create_restore"]
    assert (waited["snapshot_id"], waited["state"]) == (seed.snapshot_id, "ready")
    (entry,) = result.xcom["download"]
    check_downloaded_whole(entry, tmp_path / "out", waited["restore_job_id"])
    assert result.xcom["report"] == {"files": 1, "bytes": entry["bytes"]}
    assert "http" not in json.dumps(result.xcom)  # links are secret: in no task's XCom


def test_pipeline_creates_one_job_and_waits_for_it_deferred_in_its_create_task(
    airflow_database, live_emulator, triggers_run, tmp_path
):
    result = run_dag(EXAMPLE_DAGS, PIPELINE, {"destination": str(tmp_path)})

    assert result.state == "success", result.task_states
    job_id = result.xcom["create_restore"]["restore_job_id"]
    # The first look found the job pending, so the create task deferred and its trigger ran.
    assert [run["restore_job_id"] for run in triggers_run] == [job_id]
    assert live_emulator.stats.count(route="create_restore_job", status=200) == 1


def test_pipeline_downloads_the_newest_snapshot_into_s3(
    airflow_database, live_emulator, s3_server, s3_bucket, aws_connection
):
    destination = f"s3://{s3_bucket}/restores/"
    run_conf = {"destination": destination, "destination_conn_id": aws_connection}

    result = run_dag(EXAMPLE_DAGS, PIPELINE, run_conf)

    assert result.state == "success", result.task_states
    (entry,) = result.xcom["download"]
    key = f"restores/restore-{result.xcom['create_restore']['restore_job_id']}.tar.gz"
    assert entry["path"] == f"s3://{s3_bucket}/{key}"
    client = s3_server.client()
    assert object_keys(client, s3_bucket) == [key]
    assert unfinished_uploads(client, s3_bucket) == []
    data = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])
    tags = client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"]
    assert {"Key": "sha256", "Value": entry["sha256"]} in tags


def test_a_job_started_elsewhere_is_waited_for_by_the_deferred_sensor_then_downloaded(
    airflow_database, live_emulator, triggers_run, tmp_path
):
    seed = live_emulator.seed

    result = run_dag(EXAMPLE_DAGS, EXISTING_RESTORE, {"destination": str(tmp_path / "out")})

    assert result.state == "success", result.task_states
    started = result.xcom["start_restore"]
    assert (started["snapshotId"], started["deliveryType"]) == (seed.snapshot_id, "download")
    assert started.get("deliveryUrl", []) == []  # returned as created, not waited for
    waited = result.xcom["wait_for_restore"]
    assert (waited["restore_job_id"], waited["state"]) == (started["id"], "ready")
    assert set(waited["delivery_urls"]) == {"***"}
    # The sensor's first look found the job pending, so it deferred and its trigger ran.
    assert [run["restore_job_id"] for run in triggers_run] == [started["id"]]
    assert live_emulator.stats.count(route="create_restore_job", status=200) == 1
    (entry,) = result.xcom["download"]
    check_downloaded_whole(entry, tmp_path / "out", started["id"])


WATCHER = "atlas_snapshot_watcher"
CONSUMER = "atlas_snapshot_consumer"


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="AssetWatcher exists from Airflow 3")
def test_watcher_dag_is_scheduled_on_an_asset_watched_by_the_snapshot_event_trigger():
    from airflow_provider_atlas_restore.triggers.snapshot_events import AtlasSnapshotEventTrigger

    dag = load_dag(EXAMPLE_DAGS, WATCHER)

    assert [task.task_id for task in dag.topological_sort()] == [
        "new_snapshots",
        "create_restore",
        "download",
    ]
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    trigger = watcher.trigger
    assert isinstance(trigger, AtlasSnapshotEventTrigger)
    assert (trigger.cluster_name, trigger.include_existing, trigger.poll_interval) == (
        "Cluster0",
        False,
        300.0,
    )


def test_consumer_dag_is_scheduled_on_the_watchers_folder_asset_with_its_trailing_slash():
    consumer = load_dag(EXAMPLE_DAGS, CONSUMER)

    assert [task.task_id for task in consumer.tasks] == ["report"]
    if AIRFLOW_V_3_0_PLUS:  # the watcher DAG (and its outlet) exists on Airflow 3 only
        (asset,) = consumer.timetable.asset_condition.objects
        assert asset.name == "s3://atlas-snapshots/restores/"
        outlets = load_dag(EXAMPLE_DAGS, WATCHER).get_task("download").partial_kwargs["outlets"]
        assert [outlet.name for outlet in outlets] == [asset.name]


EXPORT_EXAMPLE = "atlas_snapshot_export"


def test_export_example_parses_and_deletes_its_snapshot_even_after_a_failed_export():
    dag = load_dag(EXAMPLE_DAGS, EXPORT_EXAMPLE)

    assert {task.task_id for task in dag.tasks} == {"take_snapshot", "export", "report", "delete_snapshot"}
    assert dag.get_task("export").upstream_task_ids == {"take_snapshot"}
    assert dag.get_task("delete_snapshot").upstream_task_ids == {"take_snapshot", "export"}
    assert dag.get_task("delete_snapshot").trigger_rule == "all_done"
    assert (dag.get_task("export").deferrable, dag.get_task("take_snapshot").deferrable) == (True, True)


@pytest.fixture
def export_emulator(monkeypatch):
    """An emulator on wall time with an export bucket; snapshots and exports take a second each."""
    from airflow_provider_atlas_restore.testing.seeding import seed_export_bucket

    with AtlasEmulator() as emulator:
        seed = seed_export_bucket(emulator, seed_basic(emulator), "example-exports")
        timings = emulator.backup_timings
        timings.snapshot_in_progress = timings.export_in_progress = 1.0
        monkeypatch.setenv(
            "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(emulator.connection(group_id=seed.group_id))
        )
        yield emulator


def test_export_example_takes_exports_reports_the_uri_and_deletes_the_snapshot(
    airflow_database, export_emulator, resource_triggers_run
):
    seed = export_emulator.seed

    result = run_dag(EXAMPLE_DAGS, EXPORT_EXAMPLE, {"bucket_name": "example-exports"})

    assert result.state == "success", result.task_states
    taken, exported = result.xcom["take_snapshot"], result.xcom["export"]
    [job] = export_emulator.store.backups.exports[(seed.group_id, "Cluster0")].values()
    assert exported["snapshot_id"] == taken["snapshot_id"] == job.snapshot_id
    assert (exported["export_bucket_id"], exported["state"]) == (seed.export_bucket_id, "Successful")
    assert exported["uri"] == f"s3://example-exports/{job.prefix}"
    assert result.xcom["report"] == {
        "uri": exported["uri"],
        "prefix": job.prefix,
        "snapshot_id": taken["snapshot_id"],
    }
    assert taken["snapshot_id"] not in export_emulator.store.cluster(seed.group_id, "Cluster0").snapshots
    assert export_emulator.stats.count(route="delete_snapshot", method="DELETE", status=204) == 1
    assert {run["kind"] for run in resource_triggers_run} == {
        "snapshot",
        "export_job",
    }  # both deferred


def test_export_example_deletes_the_snapshot_when_the_export_fails_and_fails_the_run(
    airflow_database, export_emulator
):
    seed = export_emulator.seed

    result = run_dag(EXAMPLE_DAGS, EXPORT_EXAMPLE, {"bucket_name": "no-such-bucket"})

    assert result.state == "failed"
    assert result.task_states == {
        "take_snapshot": "success",
        "export": "failed",
        "report": "upstream_failed",
        "delete_snapshot": "success",
    }
    taken = result.xcom["take_snapshot"]
    assert taken["snapshot_id"] not in export_emulator.store.cluster(seed.group_id, "Cluster0").snapshots
    assert export_emulator.stats.count(route="create_export_job") == 0


FLEX_PIPELINE = "atlas_flex_snapshot_download"


def test_flex_pipeline_restores_the_newest_flex_snapshot_then_downloads_that_snapshot(
    airflow_database, monkeypatch, triggers_run, tmp_path
):
    from airflow_provider_atlas_restore.testing.seeding import seed_demo

    with AtlasEmulator(ready_after=1.0) as emulator:
        seed = seed_demo(emulator, size_bytes=128 * 1024, flex=True)
        emulator.add_flex_cluster(seed.group_id, "Flex1")
        emulator.add_flex_snapshot(seed.group_id, "Flex0", status="RUNNING")  # newer, not completed
        connection = emulator.connection(group_id=seed.group_id)
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))

        result = run_dag(EXAMPLE_DAGS, FLEX_PIPELINE, {"destination": str(tmp_path / "out")})

        assert result.state == "success", result.task_states
        newest = max(seed.flex_snapshots, key=lambda snapshot: snapshot["scheduledTime"])["id"]
        restored = result.xcom["restore_flex"]
        assert (restored["snapshot_id"], restored["state"]) == (newest, "finished")
        job = emulator.restore_job(seed.group_id, "Flex0", restored["restore_job_id"])
        assert (job["status"], job["targetDeploymentItemName"]) == ("COMPLETED", "Flex1")
        # The restore was pending at its first look: it waited in the triggerer.
        assert [run["restore_job_id"] for run in triggers_run] == [restored["restore_job_id"]]
        assert emulator.stats.count(route="get_cluster") == 0  # cluster_type="flex": nothing to detect
        (entry,) = result.xcom["download"]
        path = Path(entry["path"])
        assert (path.parent, path.name, entry["snapshot_id"]) == (
            tmp_path / "out",
            f"snapshot-{newest}.tgz",
            newest,
        )
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        with tarfile.open(path, "r:gz") as archive:
            assert archive.getmembers()
        assert result.xcom["report"] == {
            "restore_job_id": restored["restore_job_id"],
            "files": 1,
            "bytes": entry["bytes"],
        }
        assert "http" not in json.dumps(result.xcom)  # snapshotUrl is secret: in no task's XCom
