"""A DAG the tests run with dag.test(): download the files of a restore job given as a param."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

with DAG(
    dag_id="test_atlas_download_snapshot",
    schedule=None,
    catchup=False,
    params={"restore_job": {}, "destination": "/tmp/unused", "conn_id": "mongodb_atlas_default"},
) as dag:
    AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job="{{ params.restore_job }}",
        destination="{{ params.destination }}",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )
