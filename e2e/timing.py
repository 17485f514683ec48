"""Time in a run: the timed log of steps, the overall time budget, and waiting within it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from failure import E2EFailure
from processes import Components

T = TypeVar("T")


@dataclass
class Steps:
    """Prints timed steps and keeps named timings for the summary."""

    started: float = field(default_factory=time.monotonic)
    marks: dict[str, float] = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since the start of the run."""
        return time.monotonic() - self.started

    def log(self, message: str) -> None:
        """Print ``message`` after the seconds since the start."""
        print(f"[{self.elapsed():6.1f} s] {message}", flush=True)

    def mark(self, name: str) -> float:
        """Remember the time of an event (seconds since the start) and return it."""
        self.marks[name] = self.elapsed()
        return self.marks[name]

    def between(self, first: str, second: str) -> float:
        """Seconds from the event ``first`` to the event ``second``."""
        return self.marks[second] - self.marks[first]


@dataclass
class Deadline:
    """The run's overall time budget; every wait ends by it."""

    at: float

    def remaining(self) -> float:
        """Seconds left in the budget (negative once it is used up)."""
        return self.at - time.monotonic()

    def limit(self, timeout: float, at_least: float = 0.0) -> float:
        """``timeout``, cut to what is left of the budget but not below ``at_least``."""
        return min(timeout, max(self.remaining(), at_least))


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
    limit = deadline.limit(timeout)
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
