"""Helpers of the download operator tests: ready jobs, the sensor's XCom value, one operator run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_atlas_restore.models import RestoreJob
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.testing import AtlasEmulator

CONN_ID = "atlas_emulator"
CLUSTER = "Cluster0"
SHARDED = "Sharded0"


def ready_job(
    emu: AtlasEmulator, group_id: str, cluster: str = CLUSTER, size: int = 300_000
) -> dict[str, Any]:
    snapshot = emu.add_snapshot(group_id, cluster, size_bytes=size)
    return emu.add_restore_job(group_id, cluster, snapshot_id=snapshot["id"])


def sensor_xcom(job: dict[str, Any], group_id: str, cluster: str = CLUSTER) -> dict[str, Any]:
    """Return the restore-job sensor's XCom value for ``job``."""
    view = RestoreJob.from_api(job)
    return {
        "restore_job_id": view.id,
        "cluster_name": cluster,
        "group_id": group_id,
        "delivery_type": view.delivery_type,
        "state": view.state.value,
        "snapshot_id": view.snapshot_id,
        "expires_at": view.expires_at.isoformat() if view.expires_at else None,
        "delivery_urls": view.delivery_urls,
        "components": [
            {"replica_set_name": c.replica_set_name, "download_url": c.download_url} for c in view.components
        ],
    }


def run(destination: Path | str, **arguments: Any) -> list[dict[str, Any]]:
    arguments.setdefault("atlas_conn_id", CONN_ID)
    operator = AtlasDownloadSnapshotOperator(task_id="download", destination=str(destination), **arguments)
    operator.sleep = lambda seconds: None
    return operator.execute(context={})  # type: ignore[arg-type]
