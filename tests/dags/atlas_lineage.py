"""
A DAG pair the lineage tests run: a download whose outlet is its destination folder's asset, and a consumer scheduled on it.

The destination and the consumer's asset are read from the environment when the file is
parsed (each test has its own folder or bucket), the asset spelt as docs/lineage.md tells
users to write it: the folder's URI with one trailing slash.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.assets import Asset
from airflow.providers.common.compat.sdk import DAG, BaseOperator

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

DESTINATION = os.environ.get("ATLAS_LINEAGE_DESTINATION", "/tmp/atlas-lineage-unused")
#: What a user writes in the consumer DAG, e.g. ``Asset("s3://bucket/restores/")``.
CONSUMED = os.environ.get("ATLAS_LINEAGE_ASSET", "file:///tmp/atlas-lineage-unused/")
#: An outlet of the user's own, given to the third DAG's download in place of the folder's asset.
OWN_OUTLET = os.environ.get("ATLAS_LINEAGE_OWN_OUTLET", "file:///tmp/atlas-lineage-own/")


class ReportLandedFiles(BaseOperator):
    """Return the files listed by the asset events that started this run."""

    def execute(self, context: Any) -> list[dict[str, Any]]:
        events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
        return [file for batch in events.values() for event in batch for file in event.extra.get("files", [])]


with DAG(
    dag_id="test_atlas_lineage_download",
    schedule=None,
    catchup=False,
    params={
        "restore_job": {},
        "restore_job_id": "",
        "cluster_name": "",
        "conn_id": "mongodb_atlas_default",
        "destination_conn_id": "",
    },
) as download_dag:
    # The job: the sensor's XCom value (restore_job), or its id and cluster (links read fresh).
    AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job="{{ params.restore_job or '' }}",
        restore_job_id="{{ params.restore_job_id }}",
        cluster_name="{{ params.cluster_name }}",
        destination=DESTINATION,
        destination_conn_id="{{ params.destination_conn_id }}",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )

# Airflow 2.11 wants a start_date for a DAG scheduled on a Dataset.
with DAG(
    dag_id="test_atlas_lineage_consumer",
    schedule=[Asset(CONSUMED)],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
) as consumer_dag:
    ReportLandedFiles(task_id="report")

with DAG(
    dag_id="test_atlas_lineage_own_outlet",
    schedule=None,
    catchup=False,
    params={"restore_job_id": "", "cluster_name": "", "conn_id": "mongodb_atlas_default"},
) as own_outlet_dag:
    AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job_id="{{ params.restore_job_id }}",
        cluster_name="{{ params.cluster_name }}",
        destination=DESTINATION,
        atlas_conn_id="{{ params.conn_id }}",
        outlets=[Asset(OWN_OUTLET)],
        retries=0,
    )
