"""The download's asset event, run by Airflow: the folder's asset, its extra, and the consumer DAG it queues."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.testing.dag_runs import DagRunResult, run_dag
from tests.asset_records import asset_events, parse_and_unpause, queued_dag_ids
from tests.conftest import TEST_DAGS
from tests.operators.download_helpers import CONN_ID, SHARDED, ready_job, sensor_xcom

pytestmark = pytest.mark.usefixtures("airflow_database", "emulator_time", "connect")

DOWNLOAD_DAG = "test_atlas_lineage_download"
CONSUMER_DAG = "test_atlas_lineage_consumer"


@pytest.fixture
def lineage_dags(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the lineage DAG pair at a destination and the consumer at an asset, as a user writes them."""

    def point(destination: str, consumed: str) -> None:
        monkeypatch.setenv("ATLAS_LINEAGE_DESTINATION", destination)
        monkeypatch.setenv("ATLAS_LINEAGE_ASSET", consumed)

    return point


def download(job: dict[str, Any], group_id: str, cluster: str = "Cluster0", **params: Any) -> DagRunResult:
    conf = {"restore_job": sensor_xcom(job, group_id, cluster), "conn_id": CONN_ID, **params}
    return run_dag(TEST_DAGS, DOWNLOAD_DAG, conf)


def test_a_local_download_emits_one_event_for_the_folder_asset_listing_each_file(
    emu, group_id, tmp_path, lineage_dags
):
    folder = tmp_path / "restores"
    lineage_dags(str(folder), f"file://{folder}/")
    job = ready_job(emu, group_id)
    result = download(job, group_id)
    assert result.task_states == {"download": "success"}
    [written] = result.xcom["download"]
    [extra] = asset_events(f"file://{folder}/", result.run_id)
    file = Path(written["path"])
    assert extra["files"] == [
        {
            "uri": file.as_uri(),
            "bytes": file.stat().st_size,
            "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
            "replica_set": None,
            "kept": False,
        }
    ]
    assert extra["cluster"] == "Cluster0"
    assert extra["cluster_uri"] == f"mongodb+atlas://{group_id}/Cluster0"
    assert (extra["group_id"], extra["snapshot_id"], extra["restore_job_id"]) == (
        group_id,
        job["snapshotId"],
        job["id"],
    )
    assert "://" not in str(
        {key: value for key, value in extra.items() if key not in ("files", "cluster_uri")}
    )


def test_the_event_queues_the_consumer_dag_scheduled_on_the_folder_before_any_run(
    emu, group_id, tmp_path, lineage_dags
):
    folder = tmp_path / "landing"
    lineage_dags(str(folder), f"file://{folder}/")
    job = ready_job(emu, group_id)
    parse_and_unpause(TEST_DAGS, "tests", CONSUMER_DAG)  # the consumer is parsed before any download
    assert CONSUMER_DAG not in queued_dag_ids(f"file://{folder}/")
    result = download(job, group_id)
    assert result.task_states == {"download": "success"}
    assert queued_dag_ids(f"file://{folder}/") == {CONSUMER_DAG}


def test_a_sharded_download_to_s3_lists_each_object_once_with_its_sha256(
    emu, group_id, s3_server, s3_bucket, aws_connection, lineage_dags
):
    asset = f"s3://{s3_bucket}/restores/"
    lineage_dags(f"s3://{s3_bucket}/restores", asset)  # no slash in the destination: the same asset
    job = ready_job(emu, group_id, cluster=SHARDED, size=200_000)
    parse_and_unpause(TEST_DAGS, "tests", CONSUMER_DAG)
    result = download(job, group_id, SHARDED, destination_conn_id=aws_connection)
    assert result.task_states == {"download": "success"}
    [extra] = asset_events(asset, result.run_id)
    client = s3_server.client()
    listed = {file["uri"]: file for file in extra["files"]}
    assert set(listed) == {written["path"] for written in result.xcom["download"]}
    assert len(listed) >= 3  # one object per replica set
    for uri, file in listed.items():
        key = uri.removeprefix(f"s3://{s3_bucket}/")
        body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        assert (file["bytes"], file["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
        assert file["replica_set"]
    assert extra["snapshot_id"] == job["snapshotId"]
    assert queued_dag_ids(asset) == {CONSUMER_DAG}
