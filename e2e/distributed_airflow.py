"""Airflow on PostgreSQL, Redis and Celery: the settings, the connections, the two share-nothing workers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from airflow_env import AIRFLOW, WorkFolder, airflow_env
from distributed_hostname import WORKER_HOSTNAME_VARIABLE
from distributed_services import Postgres, Redis
from processes import Component, Components

#: A task that sends no heartbeat for this long is failed (and retried) by the scheduler.
TASK_HEARTBEAT_TIMEOUT = 20
#: How often the scheduler looks for such tasks.
HEARTBEAT_TIMEOUT_DETECTION_INTERVAL = 2
#: Every task gets one retry, two seconds after a failed try (a deployment setting, not the DAG's).
TASK_RETRIES = 1
TASK_RETRY_DELAY = 2
#: A message a worker took but never acknowledged goes back to the queue after this long (Redis).
#: Longer than any task of the run takes (Airflow's default is 24 h), short enough to see the
#: killed worker's message delivered again, and refused, within the run.
BROKER_VISIBILITY_TIMEOUT = 45
WORKER_NAMES = ("e2e-worker-1", "e2e-worker-2")
ATLAS_CONN_ID = "mongodb_atlas_default"
KEY_PAIR_CONN_ID = "mongodb_atlas_key_pair"
S3_CONN_ID = "atlas_distributed_s3"
HOSTNAME_MODULE = Path(__file__).resolve().parent / "distributed_hostname.py"


def distributed_env(folder: WorkFolder, api_port: int, postgres: Postgres, redis: Redis) -> dict[str, str]:
    """The settings of every component: e2e's, with PostgreSQL, the CeleryExecutor and short timeouts.

    No connection comes from the environment: they are in the metadata database (Fernet-encrypted),
    and tasks and triggers read them through the api-server like on any distributed deployment.

    :param folder: the run's work folder.
    :param api_port: the api-server's port.
    :param postgres: the metadata database.
    :param redis: the broker.
    """
    env = airflow_env(folder, api_port, connection="")
    del env["AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT"]
    env.update(
        {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url(),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{postgres.url()}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(BROKER_VISIBILITY_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(
                HEARTBEAT_TIMEOUT_DETECTION_INTERVAL
            ),
            "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": str(TASK_RETRIES),
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": str(TASK_RETRY_DELAY),
        }
    )
    return env


@dataclass(frozen=True)
class Worker:
    """One Celery worker's own machine, as far as files go: home, temp, working directory, Airflow home."""

    name: str
    root: Path

    @property
    def home(self) -> Path:
        """``HOME``."""
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        """``TMPDIR``."""
        return self.root / "tmp"

    @property
    def cwd(self) -> Path:
        """The working directory."""
        return self.root / "cwd"

    @property
    def airflow_home(self) -> Path:
        """``AIRFLOW_HOME``: its own config, pid file and task logs."""
        return self.root / "airflow"

    @property
    def dags(self) -> Path:
        """Its own copy of the DAGs folder (a deployment ships the DAG files to every worker)."""
        return self.root / "dags"

    @property
    def python_path(self) -> Path:
        """A folder on its ``PYTHONPATH`` holding only the host-name module."""
        return self.root / "python"

    @property
    def task_logs(self) -> Path:
        """Where Airflow writes the logs of the tasks this worker runs."""
        return self.airflow_home / "logs"

    def create(self, dags: Path) -> None:
        """Make the folders; copy the DAG files and the host-name module in.

        :param dags: the DAGs folder to copy.
        """
        for path in (self.home, self.tmp, self.cwd, self.airflow_home, self.python_path):
            path.mkdir(parents=True)
        shutil.copytree(dags, self.dags)
        shutil.copy(HOSTNAME_MODULE, self.python_path / HOSTNAME_MODULE.name)

    def env(self, shared: dict[str, str]) -> dict[str, str]:
        """The shared settings, with this worker's own folders and host name.

        :param shared: the settings every component has.
        """
        return {
            **shared,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "PYTHONPATH": str(self.python_path),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{HOSTNAME_MODULE.stem}.worker_hostname",
            WORKER_HOSTNAME_VARIABLE: self.name,
        }

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int) -> Path | None:
        """The log file of one attempt of a task on this worker, if the worker wrote one.

        :param dag_id: the DAG.
        :param run_id: the DAG run.
        :param task_id: the task.
        :param attempt: the try number.
        """
        run_folder = self.task_logs / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        found = sorted(run_folder.glob(f"attempt={attempt}.log")) if run_folder.is_dir() else []
        return found[0] if found else None


def make_workers(folder: WorkFolder) -> list[Worker]:
    """The two workers' folders, each under the work folder, nothing shared between them.

    :param folder: the run's work folder (holding the DAGs to copy).
    """
    workers = [Worker(name, folder.root / name) for name in WORKER_NAMES]
    for worker in workers:
        worker.create(folder.dags)
    return workers


def start_worker(components: Components, worker: Worker) -> Component:
    """Start ``airflow celery worker`` for ``worker``: one task at a time, queue ``default``, no log server.

    :param components: where to start it.
    :param worker: its folders and name.
    """
    argv = [
        *AIRFLOW,
        "celery",
        "worker",
        "--concurrency=1",
        "--queues=default",
        f"--celery-hostname={worker.name}@%h",
        "--skip-serve-logs",  # it would listen on every interface; the test reads the files
        "--without-mingle",
        "--without-gossip",
    ]
    return components.start(worker.name, argv, env=worker.env(components.env), cwd=worker.cwd)


def worker_ready(component: Component) -> bool:
    """Whether the worker's log says Celery is consuming.

    :param component: the started worker.
    """
    text = component.log_path.read_text(errors="replace")
    return " ready." in text


def processes_of(worker: Worker) -> list[psutil.Process]:
    """Every living process (not a zombie) whose environment names ``worker``: its whole tree.

    :param worker: the worker.
    """
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(WORKER_HOSTNAME_VARIABLE) == worker.name:
                found.append(process)
    return found


@contextlib.contextmanager
def private_file(path: Path, text: str) -> Iterator[Path]:
    """A file readable by the runner only, removed afterwards.

    :param path: where (a new file).
    :param text: its content.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(text)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def connections_file_text(atlas_uri: str, key_pair: dict[str, Any], s3_connection: dict[str, Any]) -> str:
    """The JSON that ``airflow connections import`` reads: Atlas (service account, key pair) and S3.

    :param atlas_uri: the service account's connection URI.
    :param key_pair: the key pair's connection.
    :param s3_connection: the S3 connection.
    """
    return json.dumps(
        {
            ATLAS_CONN_ID: atlas_uri,
            KEY_PAIR_CONN_ID: _with_json_extra(key_pair),
            S3_CONN_ID: _with_json_extra(s3_connection),
        }
    )


def _with_json_extra(connection: dict[str, Any]) -> dict[str, Any]:
    extra = connection.get("extra")
    return {**connection, "extra": json.dumps(extra)} if isinstance(extra, dict) else connection
