"""
Wait for a MongoDB Atlas restore job that something else started, then download its files.

``AtlasRestoreJobSensor`` waits (deferred, in the triggerer) for a download restore job that
another task, DAG or system started: here ``start_restore`` stands in for it, an
``AtlasCreateRestoreJobOperator`` with ``wait_for_completion=False`` that returns the job as
Atlas created it. Replace it with whatever starts your job and pass the job's id to the sensor's
``restore_job_id`` (a template: an XCom pull, ``{{ params... }}`` or ``{{ dag_run.conf... }}``).
Once the links are ready, the download writes every file into ``destination``.

To start a restore and wait for it in one task, see ``atlas_snapshot_download.py``.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG, Param

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

with DAG(
    dag_id="atlas_wait_for_existing_restore",
    description="A restore job started elsewhere -> deferred sensor -> files in storage",
    schedule=None,
    catchup=False,
    tags=["mongodb-atlas", "example"],
    params={
        "cluster_name": Param("Cluster0", type="string", description="The restore job's cluster."),
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
    # Stands in for "started elsewhere": starts the restore and returns at once, without waiting.
    start_restore = AtlasCreateRestoreJobOperator(
        task_id="start_restore",
        cluster_name="{{ params.cluster_name }}",
        delivery_type="download",
        snapshot_id="latest",
        wait_for_completion=False,
    )

    # Waits in the triggerer for the job's links; returns the job with its links as ***.
    wait_for_restore = AtlasRestoreJobSensor(
        task_id="wait_for_restore",
        cluster_name="{{ params.cluster_name }}",
        restore_job_id="{{ ti.xcom_pull(task_ids='start_restore')['id'] }}",
        deferrable=True,
        poke_interval=5,
        timeout=6 * 60 * 60,
    )

    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job=wait_for_restore.output,
        destination="{{ params.destination }}",
        destination_conn_id="{{ params.destination_conn_id }}",
    )

    start_restore >> wait_for_restore >> download
