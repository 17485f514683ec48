"""Started processes: each the leader of a process group of its own, with a log file and its tail."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from failure import E2EFailure

LOG_TAIL_LINES = 30


@dataclass
class Component:
    """One started process, leader of a process group of its own, writing to one log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    expected_to_exit: bool = False

    @property
    def pgid(self) -> int:
        """The id of the component's process group."""
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
        """Start ``argv`` as the component ``name``, its output appended to ``logs/NAME.log``."""
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

    def named(self, name: str) -> Component:
        """The started component called ``name``."""
        return next(component for component in self.started if component.name == name)

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


def last_lines(text: str, lines: int = LOG_TAIL_LINES, width: int | None = None) -> str:
    """The last ``lines`` lines of ``text``, each cut to ``width`` characters if given."""
    return "\n".join(line[:width] for line in text.splitlines()[-lines:])


def tail(path: Path, lines: int = LOG_TAIL_LINES, width: int = 400) -> str:
    """The last lines of the file at ``path``, or why it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    return last_lines(text, lines, width)


def print_tail(path: Path) -> None:
    """Print a header and the tail of the log at ``path`` to stderr."""
    print(f"\n----- last {LOG_TAIL_LINES} lines of {path} -----", file=sys.stderr)
    print(tail(path), file=sys.stderr)
