"""Hostile ids and replica set names never become a path: the download refuses them, writing nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError, AtlasResponseError
from airflow_provider_atlas_restore.models import RestoreJobResult
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.testing.dag_runs import run_dag
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, TEST_DAGS, jobs_url, make_job

LINK = "https://download.example.invalid/aB12up63eFh16ZmBiQ9cUO5Q/restore.tar.gz"
HOSTILE_IDS = {
    "traversal": "x/../../escaped",
    "nul": "6a7948342c88faeba59e\x00866",
    "newline": "6a7948342c88faeba59eb86\n",
    "absolute": "/tmp/escaped-6a7948342c88",
}
HOSTILE_REPLICA_SETS = {"traversal": "../../escaped", "slash": "shard/0", "nul": "shard\x000", "dots": ".."}


def run(destination: Path, **arguments: Any) -> list[dict[str, Any]]:
    operator = AtlasDownloadSnapshotOperator(task_id="download", destination=str(destination), **arguments)
    operator.sleep = lambda seconds: None
    return operator.execute(context={})  # type: ignore[arg-type]


def sensor_xcom(job_id: str, replica_sets: list[str] | None = None) -> dict[str, Any]:
    return {
        "restore_job_id": job_id,
        "cluster_name": CLUSTER,
        "group_id": GROUP_ID,
        "state": "ready",
        "delivery_urls": [LINK],
        "components": [{"replica_set_name": name, "download_url": LINK} for name in replica_sets or []],
    }


def assert_nothing_written(tmp_path: Path) -> None:
    """Only the (empty) destination folder exists: nothing inside, nothing beside it."""
    assert os.listdir(tmp_path) == ["dest"]
    assert os.listdir(tmp_path / "dest") == []
    assert not any(name.startswith("escaped") for name in os.listdir("/tmp"))


@pytest.mark.parametrize("job_id", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_hostile_job_id_in_the_sensor_xcom_is_refused_writing_nothing(
    atlas_connection, requests_mock, tmp_path, job_id
):
    with pytest.raises(AtlasInputError, match=r"restore_job_id=.* is not a valid Atlas id"):
        run(tmp_path / "dest", restore_job=sensor_xcom(job_id))
    assert requests_mock.call_count == 0
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("job_id", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_hostile_job_id_in_a_job_as_the_api_returns_it_is_refused_writing_nothing(
    atlas_connection, requests_mock, tmp_path, job_id
):
    job = make_job(1, id=job_id, deliveryUrl=[LINK], cluster_name=CLUSTER)
    with pytest.raises(AtlasInputError, match="not a valid Atlas id"):
        run(tmp_path / "dest", restore_job=job)
    assert requests_mock.call_count == 0
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("name", HOSTILE_REPLICA_SETS.values(), ids=HOSTILE_REPLICA_SETS.keys())
def test_hostile_replica_set_name_in_the_xcom_is_refused_writing_nothing(
    atlas_connection, requests_mock, tmp_path, name
):
    with pytest.raises(AtlasInputError, match="replica set name of component 2 is not a safe part"):
        run(tmp_path / "dest", restore_job=sensor_xcom(JOB_ID, ["shard-0", name]))
    assert requests_mock.call_count == 0
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("name", HOSTILE_REPLICA_SETS.values(), ids=HOSTILE_REPLICA_SETS.keys())
def test_hostile_replica_set_name_from_the_server_is_a_response_error_writing_nothing(
    atlas_connection, requests_mock, tmp_path, name
):
    components = [{"replicaSetName": name, "downloadUrl": LINK}]
    requests_mock.get(
        f"{jobs_url()}/{JOB_ID}", json=make_job(1, id=JOB_ID, deliveryUrl=[LINK], components=components)
    )
    with pytest.raises(AtlasResponseError, match="replica set name of component 1 is not a safe part"):
        run(tmp_path / "dest", restore_job_id=JOB_ID, cluster_name=CLUSTER)
    assert [request.path for request in requests_mock.request_history] == [
        f"/api/atlas/v2/groups/{GROUP_ID}/clusters/{CLUSTER}/backup/restorejobs/{JOB_ID}".lower()
    ]
    assert_nothing_written(tmp_path)


def test_id_the_server_echoes_is_not_used_for_the_file_name(atlas_connection, requests_mock, tmp_path):
    from tests.download_fixtures import make_archive

    archive = make_archive(10_000)
    requests_mock.get(f"{jobs_url()}/{JOB_ID}", json=make_job(1, id="x/../../escaped", deliveryUrl=[LINK]))
    requests_mock.get(LINK, content=archive, headers={"Content-Length": str(len(archive))})
    [result] = run(tmp_path / "dest", restore_job_id=JOB_ID, cluster_name=CLUSTER)
    assert result["path"] == str(tmp_path / "dest" / f"restore-{JOB_ID}.tar.gz")
    assert os.listdir(tmp_path) == ["dest"]


def test_sensor_result_holds_the_id_asked_for_not_the_one_echoed():
    echoed = make_job(1, id="x/../../escaped", deliveryUrl=[LINK])
    result = RestoreJobResult.from_job(
        echoed, restore_job_id=JOB_ID, cluster_name=CLUSTER, group_id=GROUP_ID
    ).to_xcom()
    assert result["restore_job_id"] == JOB_ID


def test_sensor_poke_returns_the_validated_id_not_the_echoed_one(atlas_connection, requests_mock):
    from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

    echoed = make_job(1, id="x/../../escaped", deliveryUrl=[LINK])
    requests_mock.get(f"{jobs_url()}/{JOB_ID}", json=echoed)
    sensor = AtlasRestoreJobSensor(
        task_id="wait", cluster_name=CLUSTER, restore_job_id=JOB_ID, deferrable=False
    )
    outcome: Any = sensor.poke(context={})  # type: ignore[arg-type]
    assert outcome.xcom_value["restore_job_id"] == JOB_ID


def test_dag_run_with_a_traversal_id_fails_the_task_writing_nothing(
    airflow_database, atlas_connection, requests_mock, tmp_path, log_text
):
    result = run_dag(
        TEST_DAGS,
        "test_atlas_download_snapshot",
        {"restore_job": sensor_xcom(HOSTILE_IDS["traversal"]), "destination": str(tmp_path / "dest")},
    )
    assert result.task_states == {"download": "failed"}
    assert "is not a valid Atlas id" in log_text()
    assert requests_mock.call_count == 0
    assert_nothing_written(tmp_path)
