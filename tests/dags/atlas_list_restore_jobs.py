"""A DAG the tests run with dag.test(): list a cluster's restore jobs into XCom."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator

with DAG(
    dag_id="test_atlas_list_restore_jobs",
    schedule=None,
    catchup=False,
    params={"cluster": "Cluster0", "conn_id": "mongodb_atlas_default"},
) as dag:
    AtlasListRestoreJobsOperator(
        task_id="list_restore_jobs",
        cluster_name="{{ params.cluster }}",
        atlas_conn_id="{{ params.conn_id }}",
    )
