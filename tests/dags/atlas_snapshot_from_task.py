"""DAGs the tests run with dag.test(): a take-snapshot task's output (a mapping) is the snapshot_id downstream.

``test_atlas_snapshot_from_task``: ``take_dedicated`` returns ``{"snapshot_id": ..., ...}`` as a
take-snapshot task does; ``create`` restores it (a download restore, not waited for).
``take_flex`` does the same for a flex cluster; ``download_flex`` downloads it.
``test_atlas_snapshot_from_task_without_id``: ``take`` returns a mapping with no valid id;
``create`` must fail saying so, before any request.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

PARAMS = {
    "dedicated_snapshot": "",
    "flex_snapshot": "",
    "destination": "/tmp/unused",
    "conn_id": "mongodb_atlas_default",
}


@task
def take(snapshot_id: str, cluster_name: str) -> dict[str, Any]:
    """Return what a take-snapshot task returns (its XCom value) for an existing snapshot."""
    return {
        "snapshot_id": snapshot_id or None,
        "cluster_name": cluster_name,
        "status": "completed",
        "description": "taken upstream",
    }


with DAG(dag_id="test_atlas_snapshot_from_task", schedule=None, catchup=False, params=PARAMS):
    AtlasCreateRestoreJobOperator(
        task_id="create",
        cluster_name="Cluster0",
        snapshot_id=take.override(task_id="take_dedicated")("{{ params.dedicated_snapshot }}", "Cluster0"),
        wait_for_completion=False,
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )
    AtlasDownloadSnapshotOperator(
        task_id="download_flex",
        snapshot_id=take.override(task_id="take_flex")("{{ params.flex_snapshot }}", "Flex0"),
        cluster_name="Flex0",
        destination="{{ params.destination }}",
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )

with DAG(dag_id="test_atlas_snapshot_from_task_without_id", schedule=None, catchup=False, params=PARAMS):
    AtlasCreateRestoreJobOperator(
        task_id="create",
        cluster_name="Cluster0",
        snapshot_id=take("{{ params.dedicated_snapshot }}", "Cluster0"),
        wait_for_completion=False,
        atlas_conn_id="{{ params.conn_id }}",
        retries=0,
    )
