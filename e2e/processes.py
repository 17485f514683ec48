"""Started processes: each the leader of a process group of its own, with a log file and its tail."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from failure import E2EFailure

LOG_TAIL_LINES = 30


@dataclass
class Component:
    """One started process, leader of a process group of its own, writing to one log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    expected_to_exit: bool = False
    stop_signal: int = signal.SIGTERM

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

    def descendants(self) -> list[psutil.Process]:
        """Every living descendant of the leader, also those in process groups of their own.

        Airflow starts each task process in a new process group (so that it can signal the task's
        own children), so SIGKILL to the component's group alone would leave the task running.
        """
        if self.popen.returncode is not None:
            return []
        try:
            return list(psutil.Process(self.popen.pid).children(recursive=True))
        except psutil.Error:
            return []

    def kill(self) -> None:
        """SIGKILL the group and every descendant at once (a crash), then reap the leader.

        The group is stopped (SIGSTOP) first and its descendants are frozen until none is new, so
        nothing forks or writes between the first and the last SIGKILL.
        """
        self.expected_to_exit = True
        self.signal_group(signal.SIGSTOP)
        frozen: dict[int, psutil.Process] = {}
        while new := [process for process in self.descendants() if process.pid not in frozen]:
            for process in new:
                frozen[process.pid] = process
                with contextlib.suppress(psutil.Error):
                    process.suspend()
        self.signal_group(signal.SIGKILL)
        _kill_processes(frozen.values())
        self.popen.wait(timeout=30)

    def terminate(self) -> None:
        """Ask the leader to shut down (it stops its own children); a group already gone is fine."""
        self.expected_to_exit = True
        if not self.exited():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(self.stop_signal)

    def finish(self, leftovers: Collection[psutil.Process] = ()) -> bool:
        """SIGKILL whatever is left of the group (task processes, workers), then reap the leader.

        :param leftovers: descendants seen before the shutdown began (task processes in groups of
            their own), killed too if they still run.

        Returns whether the leader had exited by itself.
        """
        exited = self.exited()
        self.signal_group(signal.SIGKILL)
        _kill_processes([*leftovers, *self.descendants()])
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

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Component:
        """Start ``argv`` as the component ``name``, its output appended to ``logs/NAME.log``.

        :param name: the component's name, also its log file's.
        :param argv: the command.
        :param env: its environment (default: the shared one).
        :param cwd: its working directory (default: the shared one).
        :param user: run it as this user (the runner being root), else as the runner's.
        :param stop_signal: the signal that asks it to shut down.
        """
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                env=env or self.env,
                cwd=cwd or self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                group=_primary_group(user),
                extra_groups=[] if user is not None else None,
            )
        component = Component(name, popen, log_path, stop_signal=stop_signal)
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

    def stop_all(self, grace: float = 15.0, only: Collection[str] | None = None) -> list[str]:
        """SIGTERM every leader at once, give them ``grace`` seconds, then SIGKILL every group.

        Descendants in process groups of their own (task processes) are killed too.

        :param grace: seconds the leaders get to exit by themselves.
        :param only: stop only the components of these names (the others later, by another call).

        Returns the names of the components that had to be killed.
        """
        stopping = [c for c in self.started if only is None or c.name in only]
        leftovers = {component.name: component.descendants() for component in stopping}
        for component in reversed(stopping):
            component.terminate()
        end = time.monotonic() + grace
        while time.monotonic() < end and not all(c.exited() for c in stopping):
            time.sleep(0.1)
        return [c.name for c in stopping if not c.finish(leftovers[c.name])]


def _kill_processes(processes: Collection[psutil.Process]) -> None:
    """SIGKILL each process that still runs (psutil checks that a pid was not reused meanwhile)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


def _primary_group(user: str | None) -> int | None:
    """The primary group id of ``user``, or None for no user."""
    return None if user is None else pwd.getpwnam(user).pw_gid


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
