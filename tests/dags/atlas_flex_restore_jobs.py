"""A DAG the tests run with dag.test(): every restore-job task on flex clusters and on dedicated ones, kind "auto".

Each task has a cluster of its own, so the emulator's request log (by path) tells the requests
of one task apart. Flex clusters: ``FlexList``, ``FlexPoke``, ``FlexDefer``, ``FlexWaitPoke``,
``FlexWaitDefer``, ``FlexCancel``, ``FlexFailed`` (and ``FlexTarget``, which the flex restores
overwrite); dedicated: ``DedList``, ``DedPoke``, ``DedDefer``, ``DedWaitPoke``, ``DedWaitDefer``.
The run conf's ``jobs`` maps a cluster to the existing job its sensor or cancel task reads.
No task names ``cluster_type``: all of them find the kind from Atlas's answers.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_atlas_restore.operators.cancel_restore_job import AtlasCancelRestoreJobOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

MODES = ("poke", "deferrable")
#: Every flex restore overwrites its target: these are the arguments the flex creates share.
FLEX_RESTORE: dict[str, Any] = {
    "delivery_type": "automated",
    "target_cluster_name": "FlexTarget",
    # Optional on flex, but required for a dedicated cluster: with "auto" it is checked before the kind is known.
    "target_group_id": "{{ params.group_id }}",
    "confirm_overwrite": True,
}
COMMON: dict[str, Any] = {"atlas_conn_id": "{{ params.conn_id }}", "retries": 0}

with DAG(
    dag_id="test_atlas_flex_restore_jobs",
    schedule=None,
    catchup=False,
    params={"conn_id": "mongodb_atlas_default", "group_id": "", "jobs": {}},
):
    AtlasListRestoreJobsOperator(task_id="list_flex", cluster_name="FlexList", **COMMON)
    AtlasListRestoreJobsOperator(task_id="list_dedicated", cluster_name="DedList", **COMMON)
    for mode in MODES:
        deferrable = mode == "deferrable"
        name = "Poke" if mode == "poke" else "Defer"
        AtlasCreateRestoreJobOperator(
            task_id=f"create_flex_{mode}",
            cluster_name=f"Flex{name}",
            deferrable=deferrable,
            poll_interval=0.2,
            timeout=60,
            **FLEX_RESTORE,
            **COMMON,
        )
        AtlasCreateRestoreJobOperator(
            task_id=f"create_dedicated_{mode}",
            cluster_name=f"Ded{name}",
            deferrable=deferrable,
            poll_interval=0.2,
            timeout=60,
            **COMMON,
        )
        for family in ("Flex", "Ded"):
            AtlasRestoreJobSensor(
                task_id=f"wait_{'flex' if family == 'Flex' else 'dedicated'}_{mode}",
                cluster_name=f"{family}Wait{name}",
                restore_job_id=f"{{{{ params.jobs.{family}Wait{name} }}}}",
                deferrable=deferrable,
                poke_interval=0.2,
                timeout=60,
                **COMMON,
            )
    AtlasCancelRestoreJobOperator(
        task_id="cancel_flex",
        cluster_name="FlexCancel",
        restore_job_id="{{ params.jobs.FlexCancel }}",
        **COMMON,
    )
    AtlasCreateRestoreJobOperator(
        task_id="create_flex_failed",
        cluster_name="FlexFailed",
        poll_interval=0.2,
        timeout=60,
        **FLEX_RESTORE,
        **COMMON,
    )

# The secret-leak scan's flex run: one flex cluster (Flex0) whose downloads handed out snapshotUrls.
with DAG(
    dag_id="test_atlas_flex_restore_secrets",
    schedule=None,
    catchup=False,
    params={"group_id": "", "download_job": ""},
):
    for mode in MODES:
        AtlasCreateRestoreJobOperator(
            task_id=f"create_flex_{mode}",
            cluster_name="Flex0",
            deferrable=mode == "deferrable",
            poll_interval=0.2,
            timeout=60,
            delivery_type="automated",
            target_cluster_name="FlexTarget",
            target_group_id="{{ params.group_id }}",
            confirm_overwrite=True,
            retries=0,
        )
    AtlasListRestoreJobsOperator(task_id="list_flex", cluster_name="Flex0", retries=0)
    AtlasRestoreJobSensor(
        task_id="wait_flex_download",
        cluster_name="Flex0",
        restore_job_id="{{ params.download_job }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=60,
        retries=0,
    )
