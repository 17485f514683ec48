"""The example pipeline, run by Airflow (dag.test) end to end against the emulator."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import load_dag, run_dag
from airflow_provider_atlas_restore.testing.seeding import seed_basic
from tests.conftest import EXAMPLE_DAGS
from tests.storage_servers import object_keys, unfinished_uploads


def test_example_dags_parse_without_errors():
    dag = load_dag(EXAMPLE_DAGS, "atlas_snapshot_download")

    assert [task.task_id for task in dag.topological_sort()] == [
        "create_restore",
        "wait_for_download",
        "download",
        "report",
    ]


@pytest.fixture
def live_emulator(monkeypatch):
    """An emulator on wall time whose new restore jobs are ready 1 s after they start."""
    with AtlasEmulator(ready_after=1.0) as emulator:
        seed = seed_basic(emulator, size_bytes=256 * 1024)
        connection = emulator.connection(group_id=seed.group_id)
        connection["extra"]["allow_http_downloads"] = True
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
        yield emulator


def test_pipeline_downloads_the_newest_snapshot_whole(airflow_database, live_emulator, tmp_path):
    seed = live_emulator.seed

    result = run_dag(EXAMPLE_DAGS, "atlas_snapshot_download", {"destination": str(tmp_path / "out")})

    assert result.state == "success", result.task_states
    created = result.xcom["create_restore"]
    assert created["snapshotId"] == seed.snapshot_id
    (entry,) = result.xcom["download"]
    path = Path(entry["path"])
    assert path.parent == tmp_path / "out"
    assert path.name == f"restore-{created['id']}.tar.gz"
    assert entry["bytes"] == path.stat().st_size
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    with tarfile.open(path, "r:gz") as archive:
        assert archive.getmembers()
    assert result.xcom["report"] == {"files": 1, "bytes": entry["bytes"]}
    assert "http" not in json.dumps(result.xcom["download"])  # links are secret: not in the file list


def test_pipeline_deferred_while_waiting(airflow_database, live_emulator, tmp_path):
    run_dag(EXAMPLE_DAGS, "atlas_snapshot_download", {"destination": str(tmp_path)})

    # The first look found the job pending, so the sensor deferred and the trigger polled.
    assert live_emulator.stats.count(route="get_restore_job", status=200) >= 3


def test_pipeline_downloads_the_newest_snapshot_into_s3(
    airflow_database, live_emulator, s3_server, s3_bucket, aws_connection
):
    destination = f"s3://{s3_bucket}/restores/"
    run_conf = {"destination": destination, "destination_conn_id": aws_connection}

    result = run_dag(EXAMPLE_DAGS, "atlas_snapshot_download", run_conf)

    assert result.state == "success", result.task_states
    (entry,) = result.xcom["download"]
    key = f"restores/restore-{result.xcom['create_restore']['id']}.tar.gz"
    assert entry["path"] == f"s3://{s3_bucket}/{key}"
    client = s3_server.client()
    assert object_keys(client, s3_bucket) == [key]
    assert unfinished_uploads(client, s3_bucket) == []
    data = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])
    tags = client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"]
    assert {"Key": "sha256", "Value": entry["sha256"]} in tags
