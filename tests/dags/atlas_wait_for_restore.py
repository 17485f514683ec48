"""A DAG the tests run with dag.test(): wait for a restore job in a chosen sensor mode."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

for mode in ("poke", "reschedule", "deferrable"):
    with DAG(
        dag_id=f"test_atlas_wait_for_restore_{mode}",
        schedule=None,
        catchup=False,
        params={"cluster": "Cluster0", "job_id": "0" * 24},
    ) as dag:
        AtlasRestoreJobSensor(
            task_id="wait",
            cluster_name="{{ params.cluster }}",
            restore_job_id="{{ params.job_id }}",
            mode="poke" if mode == "deferrable" else mode,
            deferrable=mode == "deferrable",
            poke_interval=0.5,
            timeout=60,
        )
    globals()[dag.dag_id] = dag
