"""Run a DAG from a file with ``dag.test()`` and read back what it left: states, XCom, durations.

Used by the demo and the tests. This is the one place that knows how ``dag.test()``, DAG
parsing and XCom storage differ between Airflow versions (2.11 and 3.x); it imports Airflow
only when called, so the emulator package stays free of it.
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


@dataclass(frozen=True)
class StoredXCom:
    """
    One XCom value as Airflow stored it, decoded.

    :param run_id: the DAG run that pushed it.
    :param task_id: the task that pushed it.
    :param key: its key (``return_value`` for a task's return value).
    :param value: the value, deserialized.
    """

    run_id: str
    task_id: str
    key: str
    value: Any


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

    try:  # Airflow 3, where the DagBag moved to
        dagbag_module = importlib.import_module("airflow.dag_processing.dagbag")
    except ImportError:  # Airflow 2.11 (and the 3.x releases before the move)
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
    # On 2.11 and 3.x alike the tasks run in this process, deferred ones included: with no
    # triggerer running, dag.test() runs their triggers inline.
    dag_run = dag.test(run_conf=run_conf or {})
    xcom = {
        stored.task_id: stored.value
        for stored in stored_xcom(dag_id, run_id=dag_run.run_id)
        if stored.key == "return_value"
    }
    with create_session() as session:
        task_instances = dag_run.get_task_instances(session=session)
        task_states = {ti.task_id: str(ti.state) for ti in task_instances}
        durations = {
            ti.task_id: (ti.end_date - ti.start_date).total_seconds()
            for ti in task_instances
            if ti.start_date and ti.end_date
        }
    return DagRunResult(state=str(dag_run.state), task_states=task_states, xcom=xcom, durations=durations)


def stored_xcom(dag_id: str, run_id: str | None = None) -> list[StoredXCom]:
    """
    Return the XCom values stored in the metadata database for ``dag_id``, decoded.

    :param dag_id: the DAG whose values to read.
    :param run_id: only this run's values; all runs' when ``None``.
    """
    from airflow.models import xcom as xcom_models
    from airflow.utils.session import create_session

    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    # Airflow 3 keeps XCom rows as XComModel, whose JSON value deserialize_value() decodes.
    # Airflow 2.11 keeps them as XCom, which decodes the value itself when a row is loaded.
    XComTable: Any = getattr(xcom_models, "XComModel" if AIRFLOW_V_3_0_PLUS else "XCom")
    with create_session() as session:
        query = session.query(XComTable).filter(XComTable.dag_id == dag_id)
        if run_id is not None:
            query = query.filter(XComTable.run_id == run_id)
        return [
            StoredXCom(
                run_id=row.run_id,
                task_id=row.task_id,
                key=row.key,
                value=XComTable.deserialize_value(row) if AIRFLOW_V_3_0_PLUS else row.value,
            )
            for row in query.all()
        ]
