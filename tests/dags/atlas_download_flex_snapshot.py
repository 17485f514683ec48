"""DAGs the tests run with dag.test(): download a flex snapshot, alone or beside a dedicated restore job."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

FLEX_PARAMS = {
    "snapshot_id": "latest",
    "flex_cluster": "Flex0",
    "destination": "/tmp/unused",
    "destination_conn_id": "",
    "conn_id": "mongodb_atlas_default",
}

with DAG(
    dag_id="test_atlas_download_flex_snapshot", schedule=None, catchup=False, params=FLEX_PARAMS
) as flex_dag:
    AtlasDownloadSnapshotOperator(
        task_id="download_flex",
        snapshot_id="{{ params.snapshot_id }}",
        cluster_name="{{ params.flex_cluster }}",
        destination="{{ params.destination }}",
        destination_conn_id="{{ params.destination_conn_id }}",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )

with DAG(
    dag_id="test_atlas_download_flex_and_dedicated",
    schedule=None,
    catchup=False,
    params={**FLEX_PARAMS, "restore_job_id": "", "dedicated_cluster": "Cluster0"},
) as both_dag:
    AtlasDownloadSnapshotOperator(
        task_id="download_flex",
        snapshot_id="{{ params.snapshot_id }}",
        cluster_name="{{ params.flex_cluster }}",
        destination="{{ params.destination }}/flex",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )
    AtlasDownloadSnapshotOperator(
        task_id="download_dedicated",
        restore_job_id="{{ params.restore_job_id }}",
        cluster_name="{{ params.dedicated_cluster }}",
        destination="{{ params.destination }}/dedicated",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )
