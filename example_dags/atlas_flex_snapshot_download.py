"""
Restore a MongoDB Atlas flex cluster's newest snapshot onto another flex cluster, and download it as a file.

Flex clusters have their own backup API: every restore overwrites its target (an ``automated``
restore, confirmed with ``confirm_overwrite=True``) and cannot be cancelled, and a snapshot is
downloaded directly (``POST backup/download`` hands out a ``snapshotUrl`` valid four hours),
not through a download restore job. The create task starts the restore of the newest completed
snapshot and waits in the triggerer until it is ``COMPLETED``; the download task streams that
same snapshot into the folder or object storage URI of the ``destination`` param; the report
logs what was written. See docs/flex.md.

``cluster_type="flex"`` says what the clusters are, which spares the one request with which
``"auto"`` (the default) would ask Atlas. Set the connection ``mongodb_atlas_default`` (see the
README); ``make demo DEMO=flex`` runs this DAG against the bundled Atlas emulator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

with DAG(
    dag_id="atlas_flex_snapshot_download",
    description="Newest flex snapshot -> restored onto a flex cluster (waited for) -> downloaded into storage",
    schedule=None,
    catchup=False,
    tags=["mongodb-atlas", "example", "flex"],
    params={
        "cluster_name": Param("Flex0", type="string", description="The flex cluster whose snapshot is used."),
        "target_cluster_name": Param(
            "Flex1", type="string", description="The flex cluster the restore OVERWRITES."
        ),
        "destination": Param(
            "/tmp/atlas-flex-snapshots",
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
    # Overwrites the target with the newest completed snapshot and waits, in the triggerer, until
    # the job is COMPLETED. Returns the restore-job result (the same shape as a dedicated one's).
    restore = AtlasCreateRestoreJobOperator(
        task_id="restore_flex",
        cluster_name="{{ params.cluster_name }}",
        cluster_type="flex",
        delivery_type="automated",
        snapshot_id="latest",
        target_cluster_name="{{ params.target_cluster_name }}",
        confirm_overwrite=True,
        deferrable=True,
        poll_interval=5,
        timeout=6 * 60 * 60,
    )

    # The snapshot the restore used, downloaded directly (flex clusters have no download jobs):
    # snapshot_id takes the restore's result, a mapping with a "snapshot_id" key.
    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        cluster_name="{{ params.cluster_name }}",
        cluster_type="flex",
        snapshot_id=restore.output,
        destination="{{ params.destination }}",
        destination_conn_id="{{ params.destination_conn_id }}",
    )

    @task
    def report(restored: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
        """Log and return what was restored and written."""
        print(f"Restore job {restored['restore_job_id']}: {restored['state']}")
        for entry in files:
            print(f"{entry['path']}: {entry['bytes']} bytes, sha256 {entry['sha256']}")
        return {
            "restore_job_id": restored["restore_job_id"],
            "files": len(files),
            "bytes": sum(f["bytes"] for f in files),
        }

    report(restore.output, download.output)
