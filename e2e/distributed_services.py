"""The distributed run's servers: PostgreSQL (a private cluster) and Redis, as an unprivileged user."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from failure import E2EFailure
from loopback import LOOPBACK, free_port
from processes import Component, Components
from timing import Deadline, wait_for

#: The user the servers run as when the runner is root: Debian's postgresql package makes it.
SERVER_USER = "postgres"
#: Made with useradd when the runner is root and SERVER_USER does not exist.
FALLBACK_SERVER_USER = "atlas-e2e"
DATABASE = "airflow"
DATABASE_USER = "airflow"


def postgres_program(name: str) -> str:
    """The path of a PostgreSQL program (Debian keeps them in /usr/lib/postgresql/VERSION/bin).

    :param name: e.g. ``initdb``.
    """
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    path = found[-1] if found else shutil.which(name)
    if path is None:
        raise E2EFailure(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return path


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def server_user() -> str | None:
    """The unprivileged user to run the servers as: None (the runner's own) unless the runner is root."""
    if os.geteuid() != 0:
        return None
    for name in (SERVER_USER, FALLBACK_SERVER_USER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_SERVER_USER],
        check=True,
        capture_output=True,
    )
    return FALLBACK_SERVER_USER


def private_folder(prefix: str, user: str | None) -> Path:
    """A new temporary folder (mode 0700) owned by ``user`` (or the runner).

    :param prefix: the folder name's start.
    :param user: its owner (None: the runner).
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


@dataclass
class Postgres:
    """A private PostgreSQL cluster on 127.0.0.1: its folder, port and the Airflow database's password."""

    component: Component
    root: Path
    port: int
    password: str

    def url(self, driver: str = "postgresql+psycopg2") -> str:
        """The SQLAlchemy URL of the Airflow database.

        :param driver: the SQLAlchemy dialect and driver.
        """
        return f"{driver}://{DATABASE_USER}:{self.password}@{LOOPBACK}:{self.port}/{DATABASE}"

    def client_env(self) -> dict[str, str]:
        """The environment of a PostgreSQL client program (psql, pg_dump) reaching the database."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PGHOST": LOOPBACK,
            "PGPORT": str(self.port),
            "PGUSER": DATABASE_USER,
            "PGPASSWORD": self.password,
            "PGDATABASE": DATABASE,
        }

    def dump(self) -> str:
        """``pg_dump`` of the Airflow database, plain SQL."""
        done = subprocess.run(
            [postgres_program("pg_dump"), "--no-owner", "--no-privileges"],
            env=self.client_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise E2EFailure(f"pg_dump failed with status {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout


def start_postgres(components: Components, deadline: Deadline, user: str | None) -> Postgres:
    """``initdb`` a cluster in a new temp folder, start it on a free loopback port, create Airflow's database.

    :param components: where to start it.
    :param deadline: the run's time budget.
    :param user: the user to run it as (None: the runner).
    """
    root = private_folder("atlas-dist-postgres-", user)
    data, sockets = root / "data", root / "sockets"
    password = secrets.token_urlsafe(18)
    password_file = root / "password"
    password_file.write_text(password + "\n")
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(password_file, entry.pw_uid, entry.pw_gid)
    initdb = [
        postgres_program("initdb"),
        f"--pgdata={data}",
        f"--username={DATABASE_USER}",
        f"--pwfile={password_file}",
        "--auth-local=scram-sha-256",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--no-instructions",
        "--no-sync",
    ]
    _run_as(user, initdb, root, "initdb")
    password_file.unlink()
    sockets.mkdir()
    if user is not None:
        os.chown(sockets, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    port = free_port()
    argv = [
        postgres_program("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(sockets),
        "-c",
        f"listen_addresses={LOOPBACK}",
        "-c",
        "fsync=off",  # a throw-away cluster: no need to survive a power cut
        "-c",
        "max_connections=200",
    ]
    component = components.start(
        "postgres", argv, env=_server_env(root), cwd=root, user=user, stop_signal=signal.SIGINT
    )
    postgres = Postgres(component, root, port, password)
    isready = [postgres_program("pg_isready"), "--quiet"]

    def ready() -> bool | None:
        done = subprocess.run(isready, env=postgres.client_env(), capture_output=True, check=False)
        return True if done.returncode == 0 else None

    wait_for("PostgreSQL to accept connections", ready, timeout=60, deadline=deadline, components=components)
    psql = [postgres_program("psql"), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname=postgres"]
    _run([*psql, "-c", f"CREATE DATABASE {DATABASE}"], postgres.client_env(), "CREATE DATABASE")
    return postgres


@dataclass
class Redis:
    """A Redis server on 127.0.0.1 without persistence: the Celery broker."""

    component: Component
    root: Path
    port: int

    @property
    def url(self) -> str:
        """The broker URL, database 0.

        :param driver: the SQLAlchemy dialect and driver.
        """
        return f"redis://{LOOPBACK}:{self.port}/0"

    def cli(self, *args: str) -> str:
        """Run ``redis-cli ARGS`` against this server (raw output) and return its output.

        :param args: the command and its arguments.
        """
        program = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        return _run([program, "-h", LOOPBACK, "-p", str(self.port), "--raw", *args], None, "redis-cli")


def start_redis(components: Components, deadline: Deadline, user: str | None) -> Redis:
    """Start ``redis-server`` on a free loopback port, no snapshots, no append-only file.

    :param components: where to start it.
    :param deadline: the run's time budget.
    :param user: the user to run it as (None: the runner).
    """
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(program).is_file():
        raise E2EFailure("redis-server is not installed (Debian: apt-get install redis-server)")
    root = private_folder("atlas-dist-redis-", user)
    port = free_port()
    argv = [program, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(root), "--daemonize", "no", "--logfile", ""]
    component = components.start("redis", argv, env=_server_env(root), cwd=root, user=user)
    redis = Redis(component, root, port)

    def answering() -> bool | None:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return True if connection.recv(16).startswith(b"+PONG") else None
        except OSError:
            return None

    wait_for("Redis to answer PING", answering, timeout=30, deadline=deadline, components=components)
    return redis


def _server_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}


def _run_as(user: str | None, argv: list[str], cwd: Path, what: str) -> None:
    group = None if user is None else pwd.getpwnam(user).pw_gid
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=_server_env(cwd),
        user=user,
        group=group,
        extra_groups=[] if user is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise E2EFailure(
            f"{what} failed with status {done.returncode}: {(done.stdout + done.stderr)[-2000:]}"
        )


def _run(argv: list[str], env: dict[str, str] | None, what: str) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise E2EFailure(
            f"{what} failed with status {done.returncode}: {(done.stdout + done.stderr)[-2000:]}"
        )
    return done.stdout
