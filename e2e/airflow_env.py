"""Airflow's side of a run: the work folder, AIRFLOW_HOME's settings, the CLI and the components."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from example_dag import CONSUMER_DAG_FILE, DAG_FILE, WATCHER_DAG_FILE, WATCHER_POLL_INTERVAL
from failure import E2EFailure
from loopback import LOOPBACK, loopback_url
from processes import Component, Components, last_lines

API_USER = "e2e"
# The new triggerer adopts a trigger once the old triggerer's last heartbeat is older than this.
TRIGGERER_HEALTH_CHECK_THRESHOLD = 5
TRIGGERER_HEARTBEAT = 1
AIRFLOW = (sys.executable, "-m", "airflow")


@dataclass(frozen=True)
class WorkFolder:
    """The throw-away folder of one run: AIRFLOW_HOME, the DAGs, the component logs, the downloads."""

    root: Path

    @classmethod
    def create(cls, prefix: str = "atlas-e2e-") -> WorkFolder:
        """Make a new work folder, its subfolders, and a copy of the DAG file in ``dags``.

        :param prefix: the start of the folder's name in the temp folder.
        """
        folder = cls(Path(tempfile.mkdtemp(prefix=prefix)).resolve())
        for path in (folder.airflow_home, folder.dags, folder.logs, folder.snapshots, folder.watched):
            path.mkdir()
        for dag_file in (DAG_FILE, WATCHER_DAG_FILE, CONSUMER_DAG_FILE):
            shutil.copy(dag_file, folder.dags / dag_file.name)
        return folder

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME: the metadata database, the passwords file, the task logs."""
        return self.root / "airflow"

    @property
    def dags(self) -> Path:
        """The DAGs folder, holding a copy of the example DAG."""
        return self.root / "dags"

    @property
    def logs(self) -> Path:
        """One log file per started component."""
        return self.root / "logs"

    @property
    def snapshots(self) -> Path:
        """The destination of the DAG run's download."""
        return self.root / "snapshots"

    @property
    def watched(self) -> Path:
        """Where the snapshot watcher DAG downloads each new snapshot."""
        return self.root / "watched"

    @property
    def passwords_file(self) -> Path:
        """The simple auth manager's passwords file."""
        return self.airflow_home / "passwords.json"


def airflow_env(folder: WorkFolder, api_port: int, connection: str) -> dict[str, str]:
    """The settings every Airflow component (and CLI call) runs with, on top of the runner's."""
    home = folder.airflow_home
    api_url = loopback_url(api_port)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder.dags),
        "AIRFLOW__CORE__PARALLELISM": "4",  # the LocalExecutor starts this many worker processes
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(folder.passwords_file),
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"{api_url}/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # HS512 wants 64 bytes or more
        # Parse the DAG file within seconds, with one parsing process (CI machines are small).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "2",
        # A killed triggerer counts as dead (and its triggers as orphaned) within seconds.
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": str(TRIGGERER_HEARTBEAT),
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT": connection,
        # The snapshot watcher pair: a local destination folder, a short look interval.
        "ATLAS_SNAPSHOTS_URI": folder.watched.as_uri() + "/",
        "ATLAS_SNAPSHOTS_CONN_ID": "",
        "ATLAS_SNAPSHOT_POLL_INTERVAL": str(WATCHER_POLL_INTERVAL),
        "NO_PROXY": f"{LOOPBACK},localhost",
        "no_proxy": f"{LOOPBACK},localhost",
        "PYTHONUNBUFFERED": "1",
    }


def create_api_password(folder: WorkFolder) -> str:
    """Give the e2e user a random password in the passwords file and return it."""
    password = secrets.token_urlsafe(16)
    folder.passwords_file.write_text(json.dumps({API_USER: password}))
    return password


def airflow_cli(env: dict[str, str], cwd: Path, args: Sequence[str], timeout: float) -> str:
    """Run ``airflow ARGS`` to the end and return its output; fail with its tail otherwise."""
    try:
        done = subprocess.run(
            [*AIRFLOW, *args],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as error:
        raise E2EFailure(f"'airflow {' '.join(args)}' did not finish within {timeout:.0f} s") from error
    if done.returncode != 0:
        output = last_lines(done.stdout + done.stderr)
        raise E2EFailure(f"'airflow {' '.join(args)}' failed with status {done.returncode}:\n{output}")
    return done.stdout


def start_airflow(components: Components, api_port: int) -> None:
    """Start the api-server, the scheduler, the dag-processor and ``triggerer-1``."""
    # No log servers: they would listen on every interface, and all components share AIRFLOW_HOME.
    components.start("api-server", [*AIRFLOW, "api-server", f"--host={LOOPBACK}", f"--port={api_port}"])
    components.start("scheduler", [*AIRFLOW, "scheduler", "--skip-serve-logs"])
    components.start("dag-processor", [*AIRFLOW, "dag-processor"])
    start_triggerer(components, "triggerer-1")


def start_triggerer(components: Components, name: str) -> Component:
    """Start a triggerer called ``name``."""
    return components.start(name, [*AIRFLOW, "triggerer", "--skip-serve-logs"])
