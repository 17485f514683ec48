"""DAGs the tests run with dag.test(): restore collections from a snapshot and wait for it in one task.

``test_atlas_restore_collections_<mode>``: poke or deferrable, one retry at once.
``..._timeout_<mode>``: gives up after one second. ``..._killed``: killed by its execution_timeout
while it waits. ``..._point_in_time``: from a moment, into databases with a suffix.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.restore_collections import AtlasRestoreCollectionsOperator

PARAMS = {"cluster": "Cluster0", "target": "Target0", "snapshot": "latest", "moment": "1700000000"}
COLLECTIONS = [{"source": "sales.orders", "target": "staging.orders"}, "sales.customers"]


def restore_dag(dag_id: str, **arguments: Any) -> DAG:
    """Return a DAG of one collection restore task named ``restore``."""
    if "point_in_time_utc_seconds" not in arguments:
        arguments["snapshot_id"] = "{{ params.snapshot }}"
    arguments.setdefault("collections", COLLECTIONS)
    with DAG(dag_id=dag_id, schedule=None, catchup=False, params=PARAMS) as dag:
        AtlasRestoreCollectionsOperator(
            task_id="restore",
            cluster_name="{{ params.cluster }}",
            target_cluster_name="{{ params.target }}",
            poll_interval=0.2,
            **arguments,
        )
    return dag


for mode in ("poke", "deferrable"):
    deferrable = mode == "deferrable"
    once = {"retries": 1, "retry_delay": timedelta(0)}
    for dag in (
        restore_dag(f"test_atlas_restore_collections_{mode}", deferrable=deferrable, timeout=60, **once),
        restore_dag(
            f"test_atlas_restore_collections_timeout_{mode}", deferrable=deferrable, timeout=1, **once
        ),
    ):
        globals()[dag.dag_id] = dag

for dag in (
    restore_dag("test_atlas_restore_collections_killed", execution_timeout=timedelta(seconds=2)),
    restore_dag(
        "test_atlas_restore_collections_point_in_time",
        point_in_time_utc_seconds="{{ params.moment }}",
        collections=None,
        databases=["sales"],
        database_suffix="_restored",
        write_strategy="OVERWRITE_EXISTING",
        confirm_overwrite=True,
        index_strategy="ALL_EXCEPT_TTL",
        timeout=60,
    ),
):
    globals()[dag.dag_id] = dag
