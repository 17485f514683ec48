"""What one end-to-end run shares: its settings, its work folder, its processes and its API client."""

from __future__ import annotations

import os
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

    def cli(self, args: Sequence[str], timeout: float = 120.0) -> str:
        """Run ``airflow ARGS`` with the components' environment, within the time budget."""
        return airflow_cli(
            self.components.env, self.workdir.root, args, self.deadline.limit(timeout, at_least=1.0)
        )
