"""DAGs the tests run with dag.test(): take an on-demand snapshot and wait for it; delete one.

``test_atlas_take_snapshot_<if_in_progress>_<mode>``: one take task (poke or deferrable, one
retry at once, so that a test sees a failure that is not retried and a retry that adopts).
``test_atlas_take_snapshot_timeout_<mode>``: gives up after one second.
``test_atlas_take_and_delete_snapshot``: take, then delete it from the take task's output.
``test_atlas_delete_snapshot`` and ``..._allow_scheduled``: delete ``params.snapshot_id``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator

DESCRIPTION = "nightly copy for staging"
PARAMS = {"cluster": "Cluster0", "snapshot_id": "0" * 24}
RETRY_AT_ONCE = {"retries": 1, "retry_delay": timedelta(0)}


def take(**arguments: Any) -> AtlasTakeSnapshotOperator:
    """Return a take task named ``take`` that looks every 0.2 s."""
    return AtlasTakeSnapshotOperator(
        task_id="take",
        cluster_name="{{ params.cluster }}",
        description=DESCRIPTION,
        retention_in_days=2,
        poll_interval=0.2,
        **arguments,
    )


for mode in ("poke", "deferrable"):
    for if_in_progress in ("wait", "adopt", "fail"):
        with DAG(
            dag_id=f"test_atlas_take_snapshot_{if_in_progress}_{mode}",
            schedule=None,
            catchup=False,
            params=PARAMS,
        ) as dag:
            take(deferrable=mode == "deferrable", timeout=60, if_in_progress=if_in_progress, **RETRY_AT_ONCE)
        globals()[dag.dag_id] = dag
    with DAG(
        dag_id=f"test_atlas_take_snapshot_timeout_{mode}", schedule=None, catchup=False, params=PARAMS
    ) as dag:
        take(deferrable=mode == "deferrable", timeout=1, **RETRY_AT_ONCE)
    globals()[dag.dag_id] = dag

with DAG(dag_id="test_atlas_take_and_delete_snapshot", schedule=None, catchup=False, params=PARAMS) as dag:
    taken = take(deferrable=False, timeout=60)
    taken >> AtlasDeleteSnapshotOperator(
        task_id="delete", cluster_name="{{ params.cluster }}", snapshot_id=taken.output
    )
globals()[dag.dag_id] = dag

for suffix, allow_scheduled in (("", False), ("_allow_scheduled", True)):
    with DAG(
        dag_id=f"test_atlas_delete_snapshot{suffix}", schedule=None, catchup=False, params=PARAMS
    ) as dag:
        AtlasDeleteSnapshotOperator(
            task_id="delete",
            cluster_name="{{ params.cluster }}",
            snapshot_id="{{ params.snapshot_id }}",
            allow_scheduled=allow_scheduled,
            **RETRY_AT_ONCE,
        )
    globals()[dag.dag_id] = dag

with DAG(
    dag_id="test_atlas_take_snapshot_and_restore_it", schedule=None, catchup=False, params=PARAMS
) as dag:
    from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

    taken = take(deferrable=False, timeout=60)
    taken >> AtlasCreateRestoreJobOperator(
        task_id="restore", cluster_name="{{ params.cluster }}", snapshot_id=taken.output, poll_interval=0.2
    )
globals()[dag.dag_id] = dag
