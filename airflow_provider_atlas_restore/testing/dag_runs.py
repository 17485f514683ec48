"""Run a DAG from a file with ``dag.test()`` and read back what it left: states, XCom, durations.

Public: :func:`run_dag` (and the ``atlas_dag_runner`` pytest fixture built on it) is how you
run a whole DAG of your own against the emulator in a test; the demo and this package's tests
use it too. It creates the metadata database (``airflow db migrate``) when needed and, on
Airflow 3, makes the DAG's folder a DAG bundle so that ``dag.test()`` finds the DAG serialized.
This is the one place that knows how ``dag.test()``, DAG parsing and XCom storage differ
between Airflow versions (2.11 and 3.x); it imports Airflow only when called, so the emulator
package stays free of it.

It lives in the package, not in ``tests/``, because it is public: users' own tests import it
(and the ``atlas_dag_runner`` fixture of the installed pytest plugin) from here.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

__all__ = ["DagRunResult", "StoredXCom", "load_dag", "migrate_database", "run_dag", "stored_xcom"]

_BUNDLE_LIST = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"
#: The metadata databases (``sql_alchemy_conn``) this process has migrated already.
_MIGRATED: set[str] = set()
#: The databases migrated by this process or the one that started it, one a line.
_MIGRATED_ENVIRONMENT = "ATLAS_TESTING_MIGRATED_DATABASES"


@dataclass
class DagRunResult:
    """
    What one ``dag.test()`` run left behind.

    :param state: the DAG run's final state.
    :param task_states: each task's final state.
    :param xcom: each task's return value.
    :param durations: each task's seconds from start to end.
    :param run_id: the DAG run's id.
    """

    state: str
    task_states: dict[str, str]
    xcom: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    run_id: str = ""

    @property
    def succeeded(self) -> bool:
        """Return whether the DAG run ended in ``success``."""
        return self.state == "success"


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


def migrate_database(*, force: bool = False) -> None:
    """
    Create or upgrade the metadata database of ``AIRFLOW_HOME``, as ``airflow db migrate`` does.

    Runs ``airflow db migrate`` once per database: this process and the processes it starts
    (which inherit ``ATLAS_TESTING_MIGRATED_DATABASES``) skip a database already migrated.

    :param force: migrate again even if this process (or the one that started it) did already.
    """
    from airflow.configuration import conf

    database = conf.get("database", "sql_alchemy_conn")
    inherited = set(filter(None, os.environ.get(_MIGRATED_ENVIRONMENT, "").split("\n")))
    if database in _MIGRATED | inherited and not force:
        return
    migrated = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, check=False
    )
    if migrated.returncode != 0:
        raise RuntimeError(
            f"'airflow db migrate' failed:\n{migrated.stdout[-2000:]}\n{migrated.stderr[-2000:]}"
        )
    _MIGRATED.add(database)
    os.environ[_MIGRATED_ENVIRONMENT] = "\n".join(sorted(inherited | {database}))


def load_dag(folder: Path, dag_id: str) -> Any:
    """Parse the DAG files in ``folder`` and return the DAG ``dag_id``, failing on import errors."""
    import importlib

    try:  # Airflow 3, where the DagBag moved to
        dagbag_module = importlib.import_module("airflow.dag_processing.dagbag")
    except ImportError:  # Airflow 2.11 (and the 3.x releases before the move)
        dagbag_module = importlib.import_module("airflow.models.dagbag")
    bag = dagbag_module.DagBag(dag_folder=str(folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG files in {folder} failed to import: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise RuntimeError(f"No DAG {dag_id!r} in {folder}; found {sorted(bag.dags)}")
    return bag.dags[dag_id]


def run_dag(
    folder: Path | str, dag_id: str, run_conf: dict[str, Any] | None = None, *, migrate: bool = True
) -> DagRunResult:
    """
    Run ``dag_id`` from the DAG files in ``folder`` in this process with ``dag.test()``.

    Every task runs here, deferred ones included (``dag.test()`` runs their triggers inline),
    against whatever connections the environment defines (``AIRFLOW_CONN_...``).

    :param folder: the folder holding the DAG file.
    :param dag_id: the DAG to run.
    :param run_conf: the run's ``conf``, which sets DAG params.
    :param migrate: create the metadata database first when this process has not yet.
    """
    from airflow.utils.session import create_session

    folder = Path(folder).resolve()
    if migrate:
        migrate_database()
    dag = load_dag(folder, dag_id)
    with _bundle_for(folder):
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
    return DagRunResult(
        state=str(dag_run.state),
        task_states=task_states,
        xcom=xcom,
        durations=durations,
        run_id=str(dag_run.run_id),
    )


@contextmanager
def _bundle_for(folder: Path) -> Iterator[None]:
    """
    On Airflow 3, add ``folder`` to the configured DAG bundles while ``dag.test()`` runs.

    Airflow 3's ``dag.test()`` serializes DAGs from the configured bundles only (by default the
    ``dags_folder``); a DAG elsewhere fails with "the dag is not serialized".
    """
    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    if not AIRFLOW_V_3_0_PLUS:  # 2.11 runs the DAG object as it is
        yield
        return
    from airflow.configuration import conf

    configured = conf.getjson("dag_processor", "dag_bundle_config_list")
    bundles: list[Any] = list(configured) if isinstance(configured, list) else []
    if any(_bundle_path(bundle) == folder for bundle in bundles):
        yield
        return
    name = f"run-dag-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    bundle = {
        "name": name,
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder), "refresh_interval": 0},
    }
    with mock.patch.dict(os.environ, {_BUNDLE_LIST: json.dumps([*bundles, bundle])}):
        yield


def _bundle_path(bundle: Any) -> Path | None:
    if not isinstance(bundle, dict):
        return None
    path = (bundle.get("kwargs") or {}).get("path")
    if path is None and bundle.get("classpath", "").endswith("LocalDagBundle"):
        from airflow.configuration import conf

        path = conf.get("core", "dags_folder")
    return Path(path).resolve() if path else None


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
