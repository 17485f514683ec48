"""
Fetch the newest MongoDB Atlas snapshot of a cluster as files.

Creates a download restore of the cluster's newest completed snapshot and, in the same task,
waits in the triggerer until Atlas has prepared the download links (create-and-wait); then
downloads every file (one per replica set on a sharded cluster) into the folder or object
storage URI given by the ``destination`` param (with ``destination_conn_id``, an ``aws`` or
``google_cloud_platform`` connection, for ``s3://`` or ``gs://``), and reports what was written:
path (a full URI in object storage), size and sha256. In object storage each object appears
only once whole and verified.

To wait for a job started elsewhere, see ``atlas_wait_for_existing_restore.py`` (the sensor).
Set the connection ``mongodb_atlas_default`` (see the README); `make demo` runs this DAG
against the bundled Atlas emulator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

with DAG(
    dag_id="atlas_snapshot_download",
    description="Newest completed Atlas snapshot -> download restore (created and waited for) -> files in storage",
    schedule=None,
    catchup=False,
    tags=["mongodb-atlas", "example"],
    params={
        "cluster_name": Param("Cluster0", type="string", description="The Atlas cluster to restore."),
        "destination": Param(
            "/tmp/atlas-snapshots",
            type="string",
            description="A local folder or an object storage URI (s3://..., gs://..., file://...).",
        ),
        "destination_conn_id": Param(
            "",
            type="string",
            description="The Airflow connection of an s3:// or gs:// destination (empty: none).",
        ),
    },
) as dag:
    # Starts the restore and waits until its download links are ready, in the triggerer (no
    # worker slot held meanwhile). Returns the sensor's result (links as ***) for the download.
    create_restore = AtlasCreateRestoreJobOperator(
        task_id="create_restore",
        cluster_name="{{ params.cluster_name }}",
        delivery_type="download",
        snapshot_id="latest",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=5,
        timeout=6 * 60 * 60,
    )

    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job=create_restore.output,
        destination="{{ params.destination }}",
        destination_conn_id="{{ params.destination_conn_id }}",
    )

    @task
    def report(files: list[dict[str, Any]]) -> dict[str, Any]:
        """Log and return what was written."""
        total = sum(entry["bytes"] for entry in files)
        for entry in files:
            print(f"{entry['path']}: {entry['bytes']} bytes, sha256 {entry['sha256']}")
        return {"files": len(files), "bytes": total}

    report(download.output)
