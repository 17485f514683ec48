"""The download's asset event, run by Airflow: the folder's asset, its extra, and the consumer DAG it queues."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.testing.dag_runs import DagRunResult, run_dag
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.asset_records import asset_events, parse_and_unpause, queued_dag_ids
from tests.conftest import TEST_DAGS
from tests.operators.download_helpers import CONN_ID, SHARDED, ready_job, sensor_xcom

pytestmark = pytest.mark.usefixtures("airflow_database", "emulator_time", "connect")

DOWNLOAD_DAG = "test_atlas_lineage_download"
CONSUMER_DAG = "test_atlas_lineage_consumer"


@pytest.fixture
def lineage_dags(monkeypatch: pytest.MonkeyPatch) -> Any:
    """
    Point the lineage DAG pair at a destination and the consumer at an asset, as a user writes them.

    Then the DAG files are stored and the consumer unpaused, as the DAG processor and a user do
    before any run (Airflow queues runs for unpaused consumers of known assets only).
    """

    def point(destination: str, consumed: str) -> None:
        monkeypatch.setenv("ATLAS_LINEAGE_DESTINATION", destination)
        monkeypatch.setenv("ATLAS_LINEAGE_ASSET", consumed)
        parse_and_unpause(TEST_DAGS, "tests", CONSUMER_DAG)

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


def test_a_download_by_job_id_records_when_the_snapshot_was_taken(emu, group_id, tmp_path, lineage_dags):
    folder = tmp_path / "by-id"
    lineage_dags(str(folder), f"file://{folder}/")
    job = ready_job(emu, group_id)
    conf = {"restore_job_id": job["id"], "cluster_name": "Cluster0", "conn_id": CONN_ID}
    result = run_dag(TEST_DAGS, DOWNLOAD_DAG, conf)
    assert result.task_states == {"download": "success"}
    [extra] = asset_events(f"file://{folder}/", result.run_id)
    taken = datetime.fromisoformat(job["timestamp"].replace("Z", "+00:00"))
    assert extra["snapshot_time"] == taken.isoformat()
    assert (extra["snapshot_id"], extra["restore_job_id"]) == (job["snapshotId"], job["id"])


def test_the_users_own_outlet_gets_the_event_and_its_extra_in_place_of_the_folder_asset(
    emu, group_id, tmp_path, lineage_dags, monkeypatch
):
    folder = tmp_path / "own"
    own = f"file://{tmp_path}/landed-snapshots/"
    monkeypatch.setenv("ATLAS_LINEAGE_OWN_OUTLET", own)
    lineage_dags(str(folder), f"file://{folder}/")
    job = ready_job(emu, group_id)
    conf = {"restore_job_id": job["id"], "cluster_name": "Cluster0", "conn_id": CONN_ID}
    result = run_dag(TEST_DAGS, "test_atlas_lineage_own_outlet", conf)
    assert result.task_states == {"download": "success"}
    [extra] = asset_events(own, result.run_id)
    assert [file["uri"] for file in extra["files"]] == [Path(result.xcom["download"][0]["path"]).as_uri()]
    assert extra["restore_job_id"] == job["id"]
    assert asset_events(f"file://{folder}/", result.run_id) == []


def test_a_flex_download_names_its_snapshot_its_time_and_its_job(emu, group_id, tmp_path):
    emu.add_flex_cluster(group_id, "Flex0")
    snapshot = emu.add_flex_snapshot(group_id, "Flex0", size_bytes=100_000)
    task = AtlasDownloadSnapshotOperator(
        task_id="download",
        destination=str(tmp_path),
        snapshot_id="latest",
        cluster_name="Flex0",
        atlas_conn_id=CONN_ID,
        allow_http=True,
    )
    events = outlet_event_accessors()
    task.execute(context={"outlet_events": events})  # type: ignore[arg-type]
    extra = events[task.outlets[0]].extra
    assert (extra["cluster"], extra["snapshot_id"]) == ("Flex0", snapshot["id"])
    assert extra["snapshot_time"] is not None
    assert extra["restore_job_id"] is None or len(extra["restore_job_id"]) == 24
    assert extra["files"][0]["uri"].startswith(tmp_path.as_uri() + "/snapshot-")
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage.inputs[0].name == "Flex0"
    assert lineage.inputs[0].facets["atlasSnapshot"].snapshotTime == extra["snapshot_time"]


def outlet_event_accessors() -> Any:
    """Return the ``outlet_events`` Airflow puts in a task's context."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.context import OutletEventAccessors
    else:
        from airflow.utils.context import OutletEventAccessors
    return OutletEventAccessors()
