"""
Take a fresh MongoDB Atlas snapshot of a cluster, export it into a bucket, and delete it afterwards.

Takes an on-demand snapshot and waits in the triggerer until it is completed; asks Atlas to
export it into the project's export bucket named by the ``bucket_name`` param (Atlas writes it
into S3, GCS or Azure itself: nothing passes through the worker) and waits until the export is
``Successful``; reports where the export is (``s3://bucket/prefix``, ready for
``ObjectStoragePath``); and deletes the on-demand snapshot, whose copy now lives in the bucket.
The delete runs even when the export failed (nothing is left behind); the report then fails the
DAG run.

Set the connection ``mongodb_atlas_default`` (see the README) and create the export bucket in
Atlas (Project > Backup > Export buckets). ``make demo DEMO=export`` runs this DAG against the
bundled Atlas emulator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator
from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator

with DAG(
    dag_id="atlas_snapshot_export",
    description="On-demand Atlas snapshot -> export into a bucket (waited for) -> report the URI -> delete the snapshot",
    schedule=None,
    catchup=False,
    tags=["mongodb-atlas", "example"],
    params={
        "cluster_name": Param("Cluster0", type="string", description="The dedicated Atlas cluster."),
        "bucket_name": Param(
            "atlas-exports",
            type="string",
            description="The S3 or GCS bucket (or Azure container) of one export bucket of the project.",
        ),
    },
) as dag:
    # One on-demand snapshot at a time per cluster: one already running is waited for first.
    take_snapshot = AtlasTakeSnapshotOperator(
        task_id="take_snapshot",
        cluster_name="{{ params.cluster_name }}",
        description="atlas_snapshot_export: exported, then deleted",
        retention_in_days=1,
        deferrable=True,
        poll_interval=5,
        timeout=6 * 60 * 60,
    )

    export = AtlasExportSnapshotOperator(
        task_id="export",
        cluster_name="{{ params.cluster_name }}",
        snapshot_id=take_snapshot.output,
        bucket_name="{{ params.bucket_name }}",
        custom_data={"exported_by": "atlas_snapshot_export", "run_id": "{{ run_id }}"},
        deferrable=True,
        poll_interval=5,
        timeout=12 * 60 * 60,
    )

    @task
    def report(exported: dict[str, Any]) -> dict[str, Any]:
        """Log and return where the export is."""
        where = exported["uri"] or f"{exported['bucket_name']}/{exported['prefix']}"
        print(f"Snapshot {exported['snapshot_id']} exported to {where}")
        return {"uri": exported["uri"], "prefix": exported["prefix"], "snapshot_id": exported["snapshot_id"]}

    delete_snapshot = AtlasDeleteSnapshotOperator(
        task_id="delete_snapshot",
        cluster_name="{{ params.cluster_name }}",
        snapshot_id=take_snapshot.output,
        trigger_rule="all_done",  # clean up after a failed export too
    )

    report(export.output)
    export >> delete_snapshot
