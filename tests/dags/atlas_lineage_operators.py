"""
DAGs the operator lineage tests run: an export with the user's outlet, one with its own asset alias, and a consumer.

The asset is read from the environment when the file is parsed (each test has its own project
and org ids), spelt as docs/lineage.md tells users to write it.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.providers.common.compat.assets import Asset
from airflow.providers.common.compat.sdk import DAG, BaseOperator

from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator

#: e.g. ``Asset("s3://exports-bucket/exported_snapshots/<org id>/<project id>/Cluster0/")``.
EXPORT_ASSET = os.environ.get("ATLAS_LINEAGE_EXPORT_ASSET", "s3://unused/exported_snapshots/")

with DAG(dag_id="test_atlas_lineage_export", schedule=None, catchup=False) as export_dag:
    AtlasExportSnapshotOperator(
        task_id="export",
        cluster_name="Cluster0",
        bucket_name="exports-bucket",
        poll_interval=0.2,
        timeout=60,
        outlets=[Asset(EXPORT_ASSET)],
    )

# No outlets: the task declares the asset alias atlas-export:Cluster0:exports-bucket.
with DAG(dag_id="test_atlas_lineage_export_alias", schedule=None, catchup=False) as export_alias_dag:
    AtlasExportSnapshotOperator(
        task_id="export", cluster_name="Cluster0", bucket_name="exports-bucket", poll_interval=0.2, timeout=60
    )

# A consumer of the export's asset, written before any run (2.11 wants a start_date here).
with DAG(
    dag_id="test_atlas_lineage_export_consumer",
    schedule=[Asset(EXPORT_ASSET)],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
) as export_consumer_dag:
    BaseOperator(task_id="report")
