"""What the benchmark modules share: the emulator's control line, timing, medians and result rows."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

#: Scratch space (git-ignored): Airflow home, downloaded files, raw results.
WORK = Path(__file__).resolve().parent / ".work"
#: Environment variables through which ``run.py`` tells a figure module where the emulator is.
EMULATOR_ENV = "BENCH_EMULATOR"
CONTROL_KEY_ENV = "BENCH_CONTROL_KEY"
ATLAS_CONN_ID = "atlas_bench"
HTTP_CONN_ID = "http_bench"
#: Every result line a figure module prints starts with this, followed by JSON.
RESULT_PREFIX = "BENCH-RESULT "


@dataclass
class Row:
    """One line of the results table: our figure beside its baseline measured in the same run."""

    fig: str
    figure: str
    ours: float
    unit: str
    baseline: float | None
    baseline_label: str
    goal: str
    met: bool | None
    runs: int = 1
    ratio: float | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.ours / self.baseline


@dataclass
class EmulatorInfo:
    """Where the emulator process listens and what it was seeded with."""

    base_url: str
    host: str
    port: int
    pid: int
    control: tuple[str, int]
    group_id: str
    public_key: str
    private_key: str
    list_cluster: str
    list_jobs: int
    wait_cluster: str
    download_cluster: str

    @classmethod
    def from_json(cls, text: str) -> EmulatorInfo:
        """Read the JSON line the emulator process describes itself with."""
        data = json.loads(text)
        data["control"] = tuple(data["control"])
        return cls(**data)

    @classmethod
    def from_env(cls) -> EmulatorInfo:
        """Read the emulator's description that ``run.py`` put in the environment."""
        return cls.from_json(os.environ[EMULATOR_ENV])


class Control:
    """Calls into the emulator process over its loopback control line (outside timed regions)."""

    def __init__(self, info: EmulatorInfo) -> None:
        key = bytes.fromhex(os.environ[CONTROL_KEY_ENV])
        self._conn = Client(info.control, authkey=key)

    def __call__(self, command: str, **arguments: Any) -> Any:
        """Run ``command`` in the emulator process and return its answer."""
        self._conn.send((command, arguments))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"emulator control {command} failed: {value}")
        return value

    def close(self) -> None:
        """Close the control line."""
        self._conn.close()


def median(values: list[float]) -> float:
    """Return the median of ``values``."""
    return float(statistics.median(values))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``action`` once; return its wall time in seconds and its value."""
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def alternate(actions: dict[str, Callable[[], Any]], runs: int, warmups: int = 1) -> dict[str, list[float]]:
    """
    Time each action ``warmups + runs`` times, interleaved (A B A B ...) so drift hits all alike.

    :returns: the timed (non warm-up) wall times per action name.
    """
    import gc

    times: dict[str, list[float]] = {name: [] for name in actions}
    for index in range(warmups + runs):
        for name, action in actions.items():
            gc.collect()  # every run starts from the same collector state (outside the clock)
            seconds, _ = timed(action)
            if index >= warmups:
                times[name].append(seconds)
        log(
            f"  run {index + 1}/{warmups + runs}: "
            + ", ".join(f"{n} {t[-1]:.3f}s" for n, t in times.items() if t)
        )
    return times


def log(message: str) -> None:
    """Progress for the person watching (stderr; stdout carries the results)."""
    print(message, file=sys.stderr, flush=True)


def emit(rows: list[Row], extra: dict[str, Any] | None = None) -> None:
    """Print a figure module's rows for ``run.py`` to collect."""
    payload = {"rows": [asdict(row) for row in rows], "extra": extra or {}}
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


def load_average() -> tuple[float, float, float]:
    """Return the 1, 5 and 15 minute load averages."""
    return os.getloadavg()


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for the duration of a block."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def connection_env(info: EmulatorInfo) -> dict[str, str]:
    """Return the ``AIRFLOW_CONN_*`` variables for our connection and the HTTP provider's."""
    atlas = {
        "conn_type": "mongodb_atlas",
        "host": info.host,
        "port": info.port,
        "login": info.public_key,
        "password": info.private_key,
        "extra": {"scheme": "http", "group_id": info.group_id, "allow_http_downloads": True},
    }
    http = {
        "conn_type": "http",
        "host": info.host,
        "port": info.port,
        "schema": "http",
        "login": info.public_key,
        "password": info.private_key,
    }
    return {
        f"AIRFLOW_CONN_{ATLAS_CONN_ID.upper()}": json.dumps(atlas),
        f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}": json.dumps(http),
    }


class EmulatorProcess:
    """Start ``benchmarks.emulator_proc`` in its own interpreter and stop it again."""

    def __init__(self, list_jobs: int = 10_000, sizes: tuple[int, ...] = (1 << 30,)) -> None:
        import secrets
        import subprocess

        self.key = secrets.token_hex(16)
        env = {**os.environ, CONTROL_KEY_ENV: self.key}
        sizes_arg = ",".join(str(size) for size in sizes)
        command = [sys.executable, "-m", "benchmarks.emulator_proc", "--list-jobs", str(list_jobs)]
        self.process = subprocess.Popen(
            [*command, "--sizes", sizes_arg],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited before describing itself")
        self.description = line.strip()
        self.info = EmulatorInfo.from_json(self.description)

    def env(self) -> dict[str, str]:
        """Return the variables a figure module needs to find and control this emulator."""
        return {EMULATOR_ENV: self.description, CONTROL_KEY_ENV: self.key}

    def stop(self) -> None:
        """Close its stdin (it stops) and wait; kill it only if it does not stop in time."""
        import subprocess

        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
