"""Run a DAG from a file with ``dag.test()`` and read back its XCom values.

This is the one place that knows how ``dag.test()`` and XCom storage differ between Airflow
versions.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DagRunResult:
    """What one ``dag.test()`` run left behind."""

    state: str
    task_states: dict[str, str]
    xcom: dict[str, Any] = field(default_factory=dict)


def migrate_database() -> None:
    """Create the metadata database in ``AIRFLOW_HOME`` (SQLite), as ``airflow db migrate`` does."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
    )


def load_dag(folder: Path, dag_id: str) -> Any:
    """Parse the DAG files in ``folder`` and return the DAG ``dag_id``, failing on import errors."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.11
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def run_dag(folder: Path, dag_id: str, run_conf: dict[str, Any] | None = None) -> DagRunResult:
    """
    Run ``dag_id`` from ``folder`` in this process with ``dag.test()``.

    :param folder: the folder holding the DAG file (one of the configured DAG bundles).
    :param dag_id: the DAG to run.
    :param run_conf: the run's ``conf``, which sets DAG params.
    """
    from airflow.utils.session import create_session

    dag = load_dag(folder, dag_id)
    dag_run = dag.test(run_conf=run_conf or {})
    try:
        from airflow.models.xcom import XComModel as XComTable
    except ImportError:  # Airflow 2.11
        from airflow.models.xcom import XCom as XComTable
    with create_session() as session:
        rows = (
            session.query(XComTable)
            .filter(XComTable.dag_id == dag_id, XComTable.run_id == dag_run.run_id)
            .filter(XComTable.key == "return_value")
            .all()
        )
        xcom = {row.task_id: XComTable.deserialize_value(row) for row in rows}
        task_states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances(session=session)}
    return DagRunResult(state=str(dag_run.state), task_states=task_states, xcom=xcom)
