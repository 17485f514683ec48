"""What one end-to-end run shares: its settings, its work folder, its processes and its API client."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from airflow_api import Api
from airflow_env import WorkFolder, airflow_cli
from loopback import free_port, loopback_url
from processes import Components
from timing import Deadline, Steps, wait_for

T = TypeVar("T")


@dataclass
class Settings:
    """What the command line sets."""

    ready_after: float
    download_size: int
    budget: float
    keep: bool


@dataclass
class Run:
    """Everything one end-to-end run shares."""

    settings: Settings
    steps: Steps
    deadline: Deadline
    workdir: WorkFolder
    components: Components
    api_port: int
    api: Api
    run_id: str

    @classmethod
    def prepare(cls, settings: Settings, prefix: str = "atlas-e2e-") -> Run:
        """A new run: its work folder made, nothing started yet, its time budget running.

        :param settings: what the command line set.
        :param prefix: the start of the work folder's name.
        """
        workdir = WorkFolder.create(prefix)
        base_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        api_port = free_port()
        return cls(
            settings=settings,
            steps=Steps(),
            deadline=Deadline(time.monotonic() + settings.budget),
            workdir=workdir,
            # set_up() adds Airflow's settings to the environment once the emulator listens
            components=Components(logs=workdir.logs, env=base_env, cwd=workdir.root),
            api_port=api_port,
            api=Api(loopback_url(api_port)),
            run_id=f"e2e__{time.strftime('%Y%m%dT%H%M%S')}",
        )

    @property
    def destination(self) -> Path:
        """Where the DAG run downloads the snapshot to."""
        return self.workdir.snapshots

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
        """Call ``probe`` until it returns something other than None, within the time budget."""
        return wait_for(
            what,
            probe,
            timeout=timeout,
            deadline=self.deadline,
            components=self.components,
            interval=interval,
        )

    def report(self, name: str, failure: str | None, summary: Sequence[str], *, keep: bool) -> int:
        """
        Print the run's last lines (passed with its summary, or failed with why) and return the exit status.

        :param name: the test's name at the start of each line (``e2e``, ``distributed``).
        :param failure: why the run failed, or ``None`` when it passed.
        :param summary: the run's figures, joined into the passed line.
        :param keep: keep the work folder after a pass (it is always kept after a failure).
        """
        total = self.steps.elapsed()
        if failure is None:
            print(f"{name}: passed in {total:.1f} s ({'; '.join(summary)})", flush=True)
            if not keep:
                shutil.rmtree(self.workdir.root, ignore_errors=True)
            print(f"{name}: 1 passed, 0 failed", flush=True)
            return 0
        print(f"\n{name}: FAILED after {total:.1f} s: {failure}", file=sys.stderr, flush=True)
        print(f"{name}: logs kept in {self.workdir.root}", file=sys.stderr, flush=True)
        print(f"{name}: 0 passed, 1 failed", flush=True)
        return 1

    def cli(self, args: Sequence[str], timeout: float = 120.0) -> str:
        """Run ``airflow ARGS`` with the components' environment, within the time budget."""
        return airflow_cli(
            self.components.env, self.workdir.root, args, self.deadline.limit(timeout, at_least=1.0)
        )
