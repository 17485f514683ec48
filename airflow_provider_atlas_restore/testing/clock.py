"""Clocks that drive restore-job life, nonce and token expiry in the emulator."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_START", "Clock", "ManualClock", "SystemClock", "iso_utc"]

#: 2026-08-10T03:35:05Z, the time of the recorded restore job: a fixed start for deterministic runs.
DEFAULT_START = 1_786_332_905.0


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning seconds since the Unix epoch."""

    def now(self) -> float:
        """Return the current time in seconds since the Unix epoch."""
        ...


class SystemClock:
    """Wall-clock time, for the CLI and demos."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()


class ManualClock:
    """A clock that only moves when a test says so (thread-safe).

    It starts at the current wall-clock second, so clients that compare ``expiresAt`` with
    their own clock see sensible times; pass ``start`` (e.g. :data:`DEFAULT_START`) for
    runs whose ids and timestamps must be identical every time.

    :param start: initial time in seconds since the Unix epoch; now when None.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time()) if start is None else start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current manual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time.

        :param seconds: how far to move; must not be negative.
        """
        if seconds < 0:
            raise ValueError("a manual clock cannot go backwards")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time, not earlier than the current one.

        :param timestamp: seconds since the Unix epoch.
        """
        with self._lock:
            if timestamp < self._now:
                raise ValueError("a manual clock cannot go backwards")
            self._now = float(timestamp)

    def __repr__(self) -> str:
        return f"ManualClock({iso_utc(self.now())})"


def iso_utc(timestamp: float) -> str:
    """Format epoch seconds the way Atlas does: ``2026-08-10T03:35:05Z`` (whole seconds, UTC).

    :param timestamp: seconds since the Unix epoch.
    """
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
