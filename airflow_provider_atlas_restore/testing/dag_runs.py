"""Run a DAG from a file with ``dag.test()`` and read back what it left: states, XCom, durations.

Used by the demo and the tests. This is the one place that knows how ``dag.test()``, DAG
parsing and XCom storage differ between Airflow versions; it imports Airflow only when called,
so the emulator package stays free of it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DagRunResult:
    """
    What one ``dag.test()`` run left behind.

    :param state: the DAG run's final state.
    :param task_states: each task's final state.
    :param xcom: each task's return value.
    :param durations: each task's seconds from start to end.
    """

    state: str
    task_states: dict[str, str]
    xcom: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)


def migrate_database() -> None:
    """Create the metadata database in ``AIRFLOW_HOME`` (SQLite), as ``airflow db migrate`` does."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
    )


def load_dag(folder: Path, dag_id: str) -> Any:
    """Parse the DAG files in ``folder`` and return the DAG ``dag_id``, failing on import errors."""
    import importlib

    try:
        dagbag_module = importlib.import_module("airflow.dag_processing.dagbag")
    except ImportError:  # Airflow 2.11
        dagbag_module = importlib.import_module("airflow.models.dagbag")
    bag = dagbag_module.DagBag(dag_folder=str(folder))
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
    from airflow.models import xcom as xcom_models

    # Airflow 3 stores XCom rows as XComModel; Airflow 2.11 as XCom.
    XComTable: Any = getattr(xcom_models, "XComModel", None) or xcom_models.XCom
    with create_session() as session:
        rows = (
            session.query(XComTable)
            .filter(XComTable.dag_id == dag_id, XComTable.run_id == dag_run.run_id)
            .filter(XComTable.key == "return_value")
            .all()
        )
        xcom = {row.task_id: XComTable.deserialize_value(row) for row in rows}
        task_instances = dag_run.get_task_instances(session=session)
        task_states = {ti.task_id: str(ti.state) for ti in task_instances}
        durations = {
            ti.task_id: (ti.end_date - ti.start_date).total_seconds()
            for ti in task_instances
            if ti.start_date and ti.end_date
        }
    return DagRunResult(state=str(dag_run.state), task_states=task_states, xcom=xcom, durations=durations)
