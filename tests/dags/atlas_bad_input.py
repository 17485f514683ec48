"""A DAG the tests run with dag.test(): tasks whose inputs are bad, each failing before any request."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG

from tests.bad_input_tasks import BAD_INPUT_TASKS

with DAG(dag_id="test_atlas_bad_input", schedule=None, catchup=False) as dag:
    for task_id, operator, arguments, _parameter in BAD_INPUT_TASKS:
        operator(task_id=task_id, retries=0, **arguments)
