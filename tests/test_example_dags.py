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
