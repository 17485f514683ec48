"""AtlasListRestoreJobsOperator run by Airflow itself (dag.test), connection from AIRFLOW_CONN_ JSON."""

from __future__ import annotations

from airflow_provider_atlas_restore.testing.dag_runs import run_dag
from tests.conftest import GROUP_ID, TEST_DAGS, connection_json, jobs_url, make_job, page_body


def test_dag_run_lists_restore_jobs_into_xcom(airflow_database, monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_DAG_TEST", connection_json())
    jobs = [make_job(3), make_job(2, deliveryUrl=["https://restore.example.invalid/x.tar.gz"])]
    requests_mock.get(jobs_url(cluster="Cluster7"), json=page_body(jobs, total=2))

    result = run_dag(
        TEST_DAGS, "test_atlas_list_restore_jobs", {"cluster": "Cluster7", "conn_id": "atlas_dag_test"}
    )

    assert result.state == "success"
    assert result.xcom["list_restore_jobs"] == [jobs[0], {**jobs[1], "deliveryUrl": ["***"]}]
    assert f"/groups/{GROUP_ID}/clusters/Cluster7/" in requests_mock.last_request.url
