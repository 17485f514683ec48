"""
DAGs the operator lineage tests run: an export whose user outlet is the export's stable asset.

The asset is read from the environment when the file is parsed (each test has its own project
and org ids), spelt as docs/lineage.md tells users to write it.
"""

from __future__ import annotations

import os

from airflow.providers.common.compat.assets import Asset
from airflow.providers.common.compat.sdk import DAG

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
