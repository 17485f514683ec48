"""
Fetch the newest MongoDB Atlas snapshot of a cluster as files.

Creates a download restore of the cluster's newest completed snapshot, waits in the triggerer
until Atlas has prepared the download links, downloads every file (one per replica set on a
sharded cluster) into the folder or object storage URI given by the ``destination`` param
(with ``destination_conn_id``, an ``aws`` or ``google_cloud_platform`` connection, for
``s3://`` or ``gs://``), and reports what was written: path (a full URI in object storage),
size and sha256. In object storage each object appears only once whole and verified.

Set the connection ``mongodb_atlas_default`` (see the README); `make demo` runs this DAG
against the bundled Atlas emulator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

with DAG(
    dag_id="atlas_snapshot_download",
    description="Newest completed Atlas snapshot -> download restore -> files in storage",
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
    create_restore = AtlasCreateRestoreJobOperator(
        task_id="create_restore",
        cluster_name="{{ params.cluster_name }}",
        delivery_type="download",
        snapshot_id="latest",
        # Start only: the sensor below waits in the triggerer (one task can also start and wait:
        # the default wait_for_completion=True).
        wait_for_completion=False,
    )

    wait_for_download = AtlasRestoreJobSensor(
        task_id="wait_for_download",
        cluster_name="{{ params.cluster_name }}",
        restore_job_id="{{ ti.xcom_pull(task_ids='create_restore')['id'] }}",
        deferrable=True,
        poke_interval=5,
        timeout=6 * 60 * 60,
    )

    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job=wait_for_download.output,
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

    create_restore >> wait_for_download >> download
    report(download.output)
