"""DAGs the tests run with dag.test(): export a snapshot into a bucket and wait for it in one task.

``test_atlas_export_snapshot_<mode>``: poke or deferrable, one retry at once (a failure that is not
retried, and a retry that adopts the export, can both be seen). ``..._by_id_<mode>``: the bucket
given by id. ``..._timeout_<mode>``: gives up after one second. ``..._killed``: killed by its
execution_timeout while it waits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator

PARAMS = {"cluster": "Cluster0", "bucket": "exports-bucket", "bucket_id": "0" * 24, "snapshot": "latest"}


def export_dag(dag_id: str, **arguments: Any) -> DAG:
    """Return a DAG of one export task named ``export``."""
    arguments.setdefault("bucket_name", "{{ params.bucket }}")
    with DAG(dag_id=dag_id, schedule=None, catchup=False, params=PARAMS) as dag:
        AtlasExportSnapshotOperator(
            task_id="export",
            cluster_name="{{ params.cluster }}",
            snapshot_id="{{ params.snapshot }}",
            custom_data={"pipeline": "nightly"},
            poll_interval=0.2,
            **arguments,
        )
    return dag


for mode in ("poke", "deferrable"):
    deferrable = mode == "deferrable"
    once = {"retries": 1, "retry_delay": timedelta(0)}
    for dag in (
        export_dag(f"test_atlas_export_snapshot_{mode}", deferrable=deferrable, timeout=60, **once),
        export_dag(
            f"test_atlas_export_snapshot_by_id_{mode}",
            bucket_name=None,
            export_bucket_id="{{ params.bucket_id }}",
            deferrable=deferrable,
            timeout=60,
            **once,
        ),
        export_dag(f"test_atlas_export_snapshot_timeout_{mode}", deferrable=deferrable, timeout=1, **once),
    ):
        globals()[dag.dag_id] = dag

dag = export_dag("test_atlas_export_snapshot_killed", execution_timeout=timedelta(seconds=2))
globals()[dag.dag_id] = dag
