"""
End-to-end test: the example pipeline DAG on Airflow's real components survives a triggerer crash.

``make test-e2e`` runs this script. It starts, in a throw-away ``AIRFLOW_HOME`` (SQLite metadata
database, LocalExecutor), Airflow's scheduler, dag-processor, triggerer and api-server, each in a
process group of its own, plus the bundled Atlas emulator (wall clock, seeded, a download that
becomes ready ``--ready-after`` seconds after the restore job is created). Then it:

1. triggers the DAG ``atlas_snapshot_download`` with ``destination`` set to a temp folder;
2. waits, through the api-server's REST API, until the sensor ``wait_for_download`` is deferred
   and its trigger is running in the triggerer;
3. kills the triggerer's whole process group with SIGKILL (a crash: no clean shutdown, the trigger
   stays assigned to the dead triggerer) and starts a new triggerer;
4. waits until the new triggerer has taken the orphaned trigger over and the DAG run succeeds;
5. checks the downloaded archive against the ``download`` task's XCom (size, sha256) and that
   the ``.tar.gz`` reads to its end.

Every component is stopped at the end, also on failure or interruption. The last line is
``e2e: 1 passed, 0 failed`` or ``e2e: 0 passed, 1 failed``; the exit status is 0 or 1.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
DAG_FILE = REPO / "example_dags" / "atlas_snapshot_download.py"
DAG_ID = "atlas_snapshot_download"
CREATE_TASK = "create_restore"
SENSOR_TASK = "wait_for_download"
DOWNLOAD_TASK = "download"
TASK_IDS = (CREATE_TASK, SENSOR_TASK, DOWNLOAD_TASK, "report")
API_USER = "e2e"
EMULATOR_PUBLIC_KEY = "e2e-public-key"
EMULATOR_PRIVATE_KEY = "e2e-private-0000-1111-2222-333344445555"
FAILED_STATES = {"failed", "upstream_failed", "skipped", "removed"}
# The new triggerer adopts a trigger once the old triggerer's last heartbeat is older than this.
TRIGGERER_HEALTH_CHECK_THRESHOLD = 5
TRIGGERER_HEARTBEAT = 1
LOG_TAIL_LINES = 30


class E2EFailure(Exception):
    """The end-to-end run failed; the message says what and where."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP reached the runner."""


# -- log of steps ----------------------------------------------------------------------------


@dataclass
class Steps:
    """Prints timed steps and keeps named timings for the summary."""

    started: float = field(default_factory=time.monotonic)
    marks: dict[str, float] = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():6.1f} s] {message}", flush=True)

    def mark(self, name: str) -> float:
        """Remember the time of an event (seconds since the start) and return it."""
        self.marks[name] = self.elapsed()
        return self.marks[name]

    def between(self, first: str, second: str) -> float:
        return self.marks[second] - self.marks[first]


@dataclass
class Deadline:
    """The run's overall time budget; every wait ends by it."""

    at: float

    def remaining(self) -> float:
        return self.at - time.monotonic()


# -- processes -------------------------------------------------------------------------------


@dataclass
class Component:
    """One started process, leader of a process group of its own, writing to one log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    expected_to_exit: bool = False

    @property
    def pgid(self) -> int:
        return self.popen.pid  # start_new_session=True: the leader's pid is the group id

    def exited(self) -> bool:
        """Whether the leader has exited, without reaping it (so its group id stays reserved)."""
        if self.popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to every process of the group; a group already gone is fine."""
        if self.popen.returncode is not None:
            return  # reaped: the group id may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group at once (a crash), then reap the leader."""
        self.expected_to_exit = True
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def terminate(self) -> None:
        """Ask the leader to shut down (it stops its own children); a group already gone is fine."""
        self.expected_to_exit = True
        if not self.exited():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)

    def finish(self) -> bool:
        """SIGKILL whatever is left of the group (task processes, workers), then reap the leader.

        Returns whether the leader had exited by itself.
        """
        exited = self.exited()
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"e2e: warning: {self.name} (pid {self.popen.pid}) did not exit", file=sys.stderr)
        return exited


@dataclass
class Components:
    """Starts components in their own process groups and stops all of them."""

    logs: Path
    env: dict[str, str]
    cwd: Path
    started: list[Component] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Component:
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                env=env or self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        component = Component(name, popen, log_path)
        self.started.append(component)
        return component

    def check_alive(self) -> None:
        """Fail at once when a component died unexpectedly."""
        for component in self.started:
            if not component.expected_to_exit and component.exited():
                component.expected_to_exit = True
                code = component.popen.wait()
                raise E2EFailure(f"{component.name} exited unexpectedly with status {code}")

    def stop_all(self, grace: float = 15.0) -> list[str]:
        """SIGTERM every leader at once, give them ``grace`` seconds, then SIGKILL every group.

        Returns the names of the components that had to be killed.
        """
        for component in reversed(self.started):
            component.terminate()
        end = time.monotonic() + grace
        while time.monotonic() < end and not all(c.exited() for c in self.started):
            time.sleep(0.1)
        return [component.name for component in self.started if not component.finish()]


# -- waiting ---------------------------------------------------------------------------------


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float,
    deadline: Deadline,
    components: Components,
    interval: float = 0.5,
) -> T:
    """Call ``probe`` until it returns something other than None; fail after ``timeout``."""
    limit = min(timeout, max(deadline.remaining(), 0.0))
    end = time.monotonic() + limit
    while True:
        components.check_alive()
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= end:
            budget = " (the run's overall time budget is used up)" if limit < timeout else ""
            raise E2EFailure(f"timed out after {limit:.0f} s waiting for {what}{budget}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the REST API ----------------------------------------------------------------------------


class Api:
    """A small client of the api-server's public REST API (``/api/v2``), loopback only."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
        """Return ``(status, decoded JSON body)``; raises OSError when nothing answers."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return answer.status, _json(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())

    def get(self, path: str) -> Any:
        """GET ``path``: the body of a 200, None for a 404 or no answer; fails on anything else."""
        try:
            status, body = self.call("GET", path)
        except OSError:
            return None
        if status == 404:
            return None
        if status != 200:
            raise E2EFailure(f"GET {path} answered {status}: {body}")
        return body

    def log_in(self, password: str) -> bool:
        try:
            status, body = self.call("POST", "/auth/token", {"username": API_USER, "password": password})
        except OSError:
            return False
        if status in (200, 201) and isinstance(body, dict) and body.get("access_token"):
            self.token = str(body["access_token"])
            return True
        return False

    def task_instance(self, run_id: str, task_id: str) -> dict[str, Any] | None:
        ti: dict[str, Any] | None = self.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}"
        )
        return ti

    def xcom(self, run_id: str, task_id: str) -> Any:
        entry = self.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        )
        if entry is None:
            raise E2EFailure(f"task {task_id} left no XCom return value")
        value = entry.get("value")
        return json.loads(value) if isinstance(value, str) else value


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")[:500]


# -- setting up --------------------------------------------------------------------------------


@dataclass
class Settings:
    """What the command line sets."""

    ready_after: float
    download_size: int
    budget: float
    keep: bool


@dataclass
class Emulator:
    """The Atlas emulator process and what it printed."""

    component: Component
    port: int
    group_id: str


def start_emulator(components: Components, settings: Settings, deadline: Deadline) -> Emulator:
    argv = [
        sys.executable,
        "-m",
        "airflow_provider_atlas_restore.testing",
        "serve",
        "--host=127.0.0.1",
        "--port=0",
        "--seed=demo",
        f"--ready-after={settings.ready_after:g}",
        f"--download-size={settings.download_size}",
        f"--public-key={EMULATOR_PUBLIC_KEY}",
        f"--private-key={EMULATOR_PRIVATE_KEY}",
        "--verbose",  # one log line per request: shows when the triggerer polls
    ]
    component = components.start("emulator", argv)

    def printed() -> tuple[int, str] | None:
        port = group_id = None
        for line in component.log_path.read_text(errors="replace").splitlines():
            if line.startswith("Atlas emulator listening on "):
                port = int(line.rsplit(":", 1)[1])
            elif line.startswith("project "):
                group_id = line.split()[1].rstrip(":")
        return (port, group_id) if port and group_id else None

    port, group_id = wait_for(
        "the Atlas emulator to listen",
        printed,
        timeout=30,
        deadline=deadline,
        components=components,
        interval=0.1,
    )
    return Emulator(component, port, group_id)


def connection_json(emulator: Emulator) -> str:
    """The ``mongodb_atlas_default`` connection, pointing at the emulator (plain http)."""
    return json.dumps(
        {
            "conn_type": "mongodb_atlas",
            "host": "127.0.0.1",
            "port": emulator.port,
            "login": EMULATOR_PUBLIC_KEY,
            "password": EMULATOR_PRIVATE_KEY,
            "extra": {"scheme": "http", "group_id": emulator.group_id, "allow_http_downloads": True},
        }
    )


def airflow_env(home: Path, dags: Path, api_port: int, connection: str) -> dict[str, str]:
    """The settings every Airflow component (and CLI call) runs with, on top of the runner's."""
    api_url = f"http://127.0.0.1:{api_port}"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PARALLELISM": "4",  # the LocalExecutor starts this many worker processes
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__HOST": "127.0.0.1",
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
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


def airflow_cli(env: dict[str, str], cwd: Path, args: Sequence[str], timeout: float) -> str:
    """Run ``airflow ARGS`` to the end and return its output; fail with its tail otherwise."""
    argv = [sys.executable, "-m", "airflow", *args]
    try:
        done = subprocess.run(
            argv,
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
        output = "\n".join((done.stdout + done.stderr).splitlines()[-LOG_TAIL_LINES:])
        raise E2EFailure(f"'airflow {' '.join(args)}' failed with status {done.returncode}:\n{output}")
    return done.stdout


def start_airflow(components: Components, api_port: int) -> None:
    airflow = [sys.executable, "-m", "airflow"]
    # No log servers: they would listen on every interface, and all components share AIRFLOW_HOME.
    components.start("api-server", [*airflow, "api-server", "--host=127.0.0.1", f"--port={api_port}"])
    components.start("scheduler", [*airflow, "scheduler", "--skip-serve-logs"])
    components.start("dag-processor", [*airflow, "dag-processor"])
    components.start("triggerer-1", [*airflow, "triggerer", "--skip-serve-logs"])


# -- the scenario --------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything one end-to-end run shares."""

    settings: Settings
    steps: Steps
    deadline: Deadline
    workdir: Path
    components: Components
    env: dict[str, str]
    api: Api
    run_id: str = ""
    destination: Path = Path()

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
        return wait_for(
            what,
            probe,
            timeout=timeout,
            deadline=self.deadline,
            components=self.components,
            interval=interval,
        )

    def cli(self, args: Sequence[str], timeout: float = 120.0) -> str:
        return airflow_cli(self.env, self.workdir, args, min(timeout, max(self.deadline.remaining(), 1.0)))


def wait_for_api(run: Run, password: str) -> None:
    def healthy() -> bool | None:
        body = run.api.get("/api/v2/monitor/health")
        return True if body and run.api.log_in(password) else None

    run.wait_for("the api-server to answer and accept the e2e user", healthy, timeout=120)


def wait_for_dag(run: Run) -> None:
    def parsed() -> bool | None:
        errors = run.api.get("/api/v2/importErrors")
        if errors and errors.get("import_errors"):
            details = "\n".join(str(item.get("stack_trace")) for item in errors["import_errors"])
            raise E2EFailure(f"the dag-processor could not import the DAG file:\n{details}")
        dag = run.api.get(f"/api/v2/dags/{DAG_ID}")
        return True if dag else None

    run.wait_for(f"the dag-processor to parse DAG {DAG_ID}", parsed, timeout=120)


def trigger_dag(run: Run) -> None:
    run.cli(["dags", "unpause", DAG_ID])
    conf = {"destination": str(run.destination)}
    run.cli(["dags", "trigger", DAG_ID, "--run-id", run.run_id, "--conf", json.dumps(conf)])


def _failed_task(ti: dict[str, Any]) -> E2EFailure:
    return E2EFailure(f"task {ti['task_id']} ended {ti['state']} (try {ti.get('try_number')})")


def wait_for_deferral(run: Run) -> dict[str, Any]:
    """Wait until the sensor is deferred and a triggerer runs its trigger; return the task instance."""

    def deferred() -> dict[str, Any] | None:
        created = run.api.task_instance(run.run_id, CREATE_TASK)
        if created and created["state"] in FAILED_STATES:
            raise _failed_task(created)
        ti = run.api.task_instance(run.run_id, SENSOR_TASK)
        if ti is None or ti["state"] is None:
            return None
        if ti["state"] in FAILED_STATES:
            raise _failed_task(ti)
        if ti["state"] == "success":
            raise E2EFailure(
                f"{SENSOR_TASK} succeeded before it was seen deferred: give the download more "
                f"time (--ready-after, now {run.settings.ready_after:g} s)"
            )
        trigger = ti.get("trigger") or {}
        return ti if ti["state"] == "deferred" and trigger.get("triggerer_id") else None

    return run.wait_for(f"{SENSOR_TASK} to be deferred, its trigger in the triggerer", deferred, timeout=180)


def seconds_until_ready(run: Run) -> float:
    """Wall-clock seconds at least until the emulator makes the restore job's download ready.

    The job was created while ``create_restore`` ran, so not before that task started.
    """
    created = run.api.task_instance(run.run_id, CREATE_TASK) or {}
    started = datetime.fromisoformat(str(created["start_date"]).replace("Z", "+00:00"))
    return started.timestamp() + run.settings.ready_after - time.time()


def crash_triggerer(run: Run, old: Component) -> Component:
    """SIGKILL the triggerer's whole process group and start a new triggerer."""
    old.kill()
    run.steps.mark("triggerer killed")
    run.steps.log(f"triggerer-1 (process group {old.pgid}) killed with SIGKILL; starting triggerer-2")
    airflow = [sys.executable, "-m", "airflow"]
    return run.components.start("triggerer-2", [*airflow, "triggerer", "--skip-serve-logs"])


def wait_for_takeover(run: Run, old_triggerer_id: int) -> str:
    """Wait until another triggerer holds the trigger (or has already fired it); say which."""

    def taken_over() -> str | None:
        ti = run.api.task_instance(run.run_id, SENSOR_TASK)
        if ti is None:
            return None
        if ti["state"] in FAILED_STATES:
            raise _failed_task(ti)
        if ti["state"] != "deferred":
            return f"the new triggerer fired the trigger ({SENSOR_TASK} is {ti['state']})"
        trigger = ti.get("trigger") or {}
        owner = trigger.get("triggerer_id")
        if owner is not None and owner != old_triggerer_id:
            return f"trigger {trigger['id']} moved from triggerer job {old_triggerer_id} to {owner}"
        return None

    return run.wait_for("the new triggerer to take the orphaned trigger over", taken_over, timeout=120)


def wait_for_run(run: Run) -> str:
    def finished() -> str | None:
        dag_run = run.api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run.run_id}")
        state = dag_run.get("state") if dag_run else None
        return str(state) if state in ("success", "failed") else None

    state = run.wait_for(f"DAG run {run.run_id} to finish", finished, timeout=240, interval=1.0)
    if state != "success":
        states = []
        for task_id in TASK_IDS:
            ti = run.api.task_instance(run.run_id, task_id) or {}
            states.append(f"{task_id}={ti.get('state')}")
        raise E2EFailure(f"DAG run {run.run_id} ended {state}: {', '.join(states)}")
    return state


def check_task_instances(run: Run) -> None:
    """Every task succeeded at its first try: the sensor resumed, it was not retried."""
    for task_id in TASK_IDS:
        ti = run.api.task_instance(run.run_id, task_id)
        if not ti or ti["state"] != "success" or ti["try_number"] != 1:
            state = ti and (ti["state"], ti["try_number"])
            raise E2EFailure(f"task {task_id}: expected success at try 1, got (state, try) {state}")


def check_download(run: Run) -> list[str]:
    """Compare the downloaded files with the download task's XCom; return one line per file."""
    files = run.api.xcom(run.run_id, DOWNLOAD_TASK)
    if not isinstance(files, list) or len(files) != 1:
        raise E2EFailure(f"expected one downloaded file in the XCom of {DOWNLOAD_TASK}, got {files!r}")
    lines = []
    for entry in files:
        path = Path(entry["path"])
        if path.parent.resolve() != run.destination.resolve():
            raise E2EFailure(f"{path} is not in the destination folder {run.destination}")
        if not path.is_file():
            raise E2EFailure(f"{path} (from the XCom of {DOWNLOAD_TASK}) does not exist")
        size = path.stat().st_size
        digest = sha256_of(path)
        if size != entry["bytes"] or digest != entry["sha256"]:
            raise E2EFailure(
                f"{path}: {size} bytes, sha256 {digest}; "
                f"the XCom says {entry['bytes']} bytes, sha256 {entry['sha256']}"
            )
        if not run.settings.download_size <= size < run.settings.download_size + 1024:
            raise E2EFailure(f"{path}: {size} bytes, the emulator serves ~{run.settings.download_size}")
        members = read_tarball(path)
        lines.append(f"{path.name}: {size:,} bytes, sha256 {digest[:16]}..., {members} tar members read")
    return lines


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_tarball(path: Path) -> int:
    """Read every member of a ``.tar.gz`` to its end (gzip CRC and length included)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                stream = archive.extractfile(member)
                if stream is not None:
                    while stream.read(1 << 20):
                        pass
    except (tarfile.TarError, OSError, EOFError) as error:
        raise E2EFailure(f"{path} is not a readable .tar.gz: {error}") from error
    if not members:
        raise E2EFailure(f"{path} is an empty archive")
    return len(members)


def count_job_polls(emulator: Emulator, job_id: str) -> int:
    """How many GETs of the restore job the emulator has answered 200 (its ``--verbose`` log)."""
    needle = f'/restoreJobs/{job_id} HTTP/1.1" 200'
    text = emulator.component.log_path.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if '"GET ' in line and needle in line)


def wait_for_trigger_poll(run: Run, emulator: Emulator) -> str:
    """Wait until the first triggerer runs the trigger: a GET of the job after the deferral."""
    job_id = str(run.api.xcom(run.run_id, CREATE_TASK)["id"])
    before = count_job_polls(emulator, job_id)  # the sensor's own look, before it deferred

    def polled() -> bool | None:
        return True if count_job_polls(emulator, job_id) > before else None

    run.wait_for(f"triggerer-1 to poll restore job {job_id}", polled, timeout=60, interval=0.2)
    return job_id


def set_up(run: Run, api_port: int) -> Emulator:
    """Start the emulator and Airflow, and wait until the DAG is parsed."""
    steps = run.steps
    emulator = start_emulator(run.components, run.settings, run.deadline)
    steps.log(
        f"Atlas emulator on http://127.0.0.1:{emulator.port}: project {emulator.group_id}, "
        f"downloads ready {run.settings.ready_after:g} s after a restore starts"
    )
    run.env.update(
        airflow_env(run.workdir / "airflow", run.workdir / "dags", api_port, connection_json(emulator))
    )
    password = secrets.token_urlsafe(16)
    (run.workdir / "airflow" / "passwords.json").write_text(json.dumps({API_USER: password}))
    steps.log("airflow db migrate (SQLite metadata database)")
    run.cli(["db", "migrate"], timeout=240)
    steps.mark("db migrated")
    steps.log("starting api-server, scheduler, dag-processor and triggerer-1 (LocalExecutor)")
    start_airflow(run.components, api_port)
    wait_for_api(run, password)
    steps.log(f"api-server answers on http://127.0.0.1:{api_port}")
    wait_for_dag(run)
    steps.mark("airflow up")
    return emulator


def defer_and_crash(run: Run, emulator: Emulator) -> None:
    """Trigger the DAG, wait for the deferred sensor, SIGKILL the triggerer, wait for the takeover."""
    steps = run.steps
    steps.log(f"DAG {DAG_ID} parsed; unpausing and triggering run {run.run_id}")
    trigger_dag(run)
    steps.mark("triggered")
    ti = wait_for_deferral(run)
    steps.mark("deferred")
    old_triggerer_id = int(ti["trigger"]["triggerer_id"])
    steps.log(
        f"{SENSOR_TASK} deferred {steps.between('triggered', 'deferred'):.1f} s after the trigger; "
        f"trigger {ti['trigger']['id']} assigned to triggerer job {old_triggerer_id}"
    )
    job_id = wait_for_trigger_poll(run, emulator)
    ready_in = seconds_until_ready(run)
    steps.log(
        f"triggerer-1 polls restore job {job_id}; its download is ready in {ready_in:.1f} s at the earliest"
    )
    if ready_in < 1.0:
        raise E2EFailure(
            "the download is (almost) ready already, so the killed triggerer might have fired the "
            f"trigger itself: give it more time (--ready-after, now {run.settings.ready_after:g} s)"
        )
    old = next(c for c in run.components.started if c.name == "triggerer-1")
    crash_triggerer(run, old)
    how = wait_for_takeover(run, old_triggerer_id)
    steps.mark("taken over")
    steps.log(f"takeover {steps.between('triggerer killed', 'taken over'):.1f} s after the SIGKILL: {how}")


def finish_and_verify(run: Run) -> None:
    """Wait for the run's success; check every task and the downloaded archive."""
    wait_for_run(run)
    run.steps.mark("run succeeded")
    run.steps.log(f"DAG run {run.run_id} succeeded, every task at its first try")
    check_task_instances(run)
    for line in check_download(run):
        run.steps.log(f"verified {line}")


def scenario(run: Run, api_port: int) -> list[str]:
    """The test itself; returns the lines of its summary."""
    emulator = set_up(run, api_port)
    defer_and_crash(run, emulator)
    finish_and_verify(run)
    steps = run.steps
    return [
        f"Airflow up {steps.marks['airflow up']:.1f} s",
        f"trigger -> deferred {steps.between('triggered', 'deferred'):.1f} s",
        f"SIGKILL -> takeover {steps.between('triggerer killed', 'taken over'):.1f} s",
        f"takeover -> run success {steps.between('taken over', 'run succeeded'):.1f} s",
        f"trigger -> run success {steps.between('triggered', 'run succeeded'):.1f} s",
    ]


# -- reporting and teardown --------------------------------------------------------------------


def tail(path: Path, lines: int = LOG_TAIL_LINES, width: int = 400) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    return "\n".join(line[:width] for line in text.splitlines()[-lines:])


def print_logs(run: Run) -> None:
    """The tails of every component log and of the run's task logs, to stderr."""
    for component in run.components.started:
        print(f"\n----- last {LOG_TAIL_LINES} lines of {component.log_path} -----", file=sys.stderr)
        print(tail(component.log_path), file=sys.stderr)
    task_logs = run.workdir / "airflow" / "logs" / f"dag_id={DAG_ID}"
    for log in sorted(task_logs.glob("**/*.log")) if task_logs.is_dir() else []:
        print(f"\n----- last {LOG_TAIL_LINES} lines of {log} -----", file=sys.stderr)
        print(tail(log), file=sys.stderr)
    sys.stderr.flush()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ready-after", type=float, default=30.0, help="seconds until the download is ready")
    parser.add_argument("--download-size", type=int, default=4 << 20, help="bytes of the snapshot archive")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds the whole run may take")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, also on success")
    return parser


def _prepare(settings: Settings) -> Run:
    workdir = Path(tempfile.mkdtemp(prefix="atlas-e2e-")).resolve()
    for folder in ("airflow", "dags", "logs", "snapshots"):
        (workdir / folder).mkdir()
    shutil.copy(DAG_FILE, workdir / "dags" / DAG_FILE.name)
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    components = Components(logs=workdir / "logs", env=base_env, cwd=workdir)
    return Run(
        settings=settings,
        steps=Steps(),
        deadline=Deadline(time.monotonic() + settings.budget),
        workdir=workdir,
        components=components,
        env=base_env,  # the same dict as components.env: set_up() adds Airflow's settings to it
        api=Api(""),
        run_id=f"e2e__{time.strftime('%Y%m%dT%H%M%S')}",
        destination=workdir / "snapshots",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings(args.ready_after, args.download_size, args.budget, args.keep)
    run = _prepare(settings)
    api_port = free_port()
    run.api = Api(f"http://127.0.0.1:{api_port}")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    run.steps.log(f"work folder {run.workdir}")
    summary: list[str] = []
    failure: str | None = None
    try:
        summary = scenario(run, api_port)
    except E2EFailure as error:
        failure = str(error)
    except Interrupted as error:
        failure = f"interrupted by {error}"
    except Exception as error:  # a bug here, or something unforeseen: still stop everything
        traceback.print_exc()
        failure = f"unexpected error: {error!r}"
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if failure is not None:
            print(f"e2e: FAILED: {failure}; the tails of the logs follow", file=sys.stderr, flush=True)
            print_logs(run)
        run.steps.log(f"stopping {len(run.components.started)} processes")
        try:
            killed = run.components.stop_all()
        except Exception as error:  # never leave without the final line
            failure = failure or f"stopping the processes failed: {error!r}"
            killed = []
        late = f" ({', '.join(killed)} killed after ignoring SIGTERM)" if killed else ""
        run.steps.log(f"all processes stopped{late}")
    total = run.steps.elapsed()
    if failure is None:
        print(f"e2e: passed in {total:.1f} s ({'; '.join(summary)})", flush=True)
        if not settings.keep:
            shutil.rmtree(run.workdir, ignore_errors=True)
        print("e2e: 1 passed, 0 failed", flush=True)
        return 0
    print(f"\ne2e: FAILED after {total:.1f} s: {failure}", file=sys.stderr, flush=True)
    print(f"e2e: logs kept in {run.workdir}", file=sys.stderr, flush=True)
    print("e2e: 0 passed, 1 failed", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
