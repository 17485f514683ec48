"""DAGs the tests run with dag.test(): start a restore and wait for it in one task.

``test_atlas_create_and_wait_<delivery type>_<mode>``: poke or deferrable, one retry at once
(so that a test can see a failure that is not retried, and a retry that adopts the job).
``test_atlas_create_and_wait_timeout_<mode>``: gives up after one second.
``test_atlas_create_and_wait_killed_<delivery type>``: killed by its execution_timeout while it
waits, so Airflow calls on_kill; ``..._killed_keep`` with ``cancel_on_kill=False``.
``test_atlas_create_and_wait_terminated``: waits long enough for a test to send it SIGTERM.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

PARAMS = {"cluster": "Cluster0", "target": "Target0", "target_group": "0" * 24, "moment": "1700000000"}
TARGETS: dict[str, dict[str, Any]] = {
    "download": {},
    "automated": {
        "target_cluster_name": "{{ params.target }}",
        "target_group_id": "{{ params.target_group }}",
        "confirm_overwrite": True,
    },
    "pointInTime": {
        "target_cluster_name": "{{ params.target }}",
        "target_group_id": "{{ params.target_group }}",
        "point_in_time_utc_seconds": "{{ params.moment }}",
        "confirm_overwrite": True,
    },
}


def create_and_wait(dag_id: str, delivery_type: str, **arguments: Any) -> DAG:
    """Return a DAG of one create-and-wait task named ``create``."""
    with DAG(dag_id=dag_id, schedule=None, catchup=False, params=PARAMS) as dag:
        AtlasCreateRestoreJobOperator(
            task_id="create",
            cluster_name="{{ params.cluster }}",
            delivery_type=delivery_type,
            poll_interval=0.2,
            **{**TARGETS[delivery_type], **arguments},
        )
    return dag


for delivery_type in TARGETS:
    for mode in ("poke", "deferrable"):
        dag = create_and_wait(
            f"test_atlas_create_and_wait_{delivery_type}_{mode}",
            delivery_type,
            deferrable=mode == "deferrable",
            timeout=60,
            retries=1,
            retry_delay=timedelta(0),
        )
        globals()[dag.dag_id] = dag
    dag = create_and_wait(
        f"test_atlas_create_and_wait_killed_{delivery_type}",
        delivery_type,
        deferrable=False,
        execution_timeout=timedelta(seconds=2),
    )
    globals()[dag.dag_id] = dag

for mode in ("poke", "deferrable"):
    dag = create_and_wait(
        f"test_atlas_create_and_wait_timeout_{mode}",
        "download",
        deferrable=mode == "deferrable",
        timeout=1,
        retries=1,
        retry_delay=timedelta(0),
    )
    globals()[dag.dag_id] = dag

dag = create_and_wait(
    "test_atlas_create_and_wait_killed_keep",
    "download",
    deferrable=False,
    cancel_on_kill=False,
    execution_timeout=timedelta(seconds=2),
)
globals()[dag.dag_id] = dag

dag = create_and_wait("test_atlas_create_and_wait_terminated", "download", deferrable=False, timeout=120)
globals()[dag.dag_id] = dag
