"""Request counters for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["Stats"]


class Stats:
    """Thread-safe counts of answers by route, method and status, plus auth challenges.

    A connection reset by a fault is counted with status 0.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: Counter[tuple[str, str, int]] = Counter()
        self._challenges = 0
        self._connections = 0

    def record(self, route: str, method: str, status: int) -> None:
        """Count one answer.

        :param route: route name, e.g. ``list_restore_jobs`` (``unknown`` if none matched).
        :param method: HTTP method.
        :param status: HTTP status sent, 0 for a reset connection.
        """
        with self._lock:
            self._answers[(route, method.upper(), status)] += 1

    def record_challenge(self) -> None:
        """Count one 401 Digest challenge sent with a fresh nonce."""
        with self._lock:
            self._challenges += 1

    def record_connection(self) -> None:
        """Count one accepted TCP connection."""
        with self._lock:
            self._connections += 1

    def count(self, route: str | None = None, method: str | None = None, status: int | None = None) -> int:
        """Return the number of answers matching every filter given (all answers when none).

        :param route: route name filter.
        :param method: HTTP method filter.
        :param status: HTTP status filter.
        """
        with self._lock:
            return sum(
                n
                for (r, m, s), n in self._answers.items()
                if (route is None or r == route)
                and (method is None or m == method.upper())
                and (status is None or s == status)
            )

    @property
    def challenges(self) -> int:
        """Number of 401 Digest challenges sent."""
        with self._lock:
            return self._challenges

    @property
    def connections(self) -> int:
        """Number of TCP connections accepted (keep-alive clients reuse one)."""
        with self._lock:
            return self._connections

    def as_dict(self) -> dict[str, int]:
        """Return ``{"route METHOD status": count}`` plus ``challenges`` and ``connections``."""
        with self._lock:
            out = {f"{r} {m} {s}": n for (r, m, s), n in sorted(self._answers.items())}
            out["challenges"] = self._challenges
            out["connections"] = self._connections
            return out

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._answers.clear()
            self._challenges = 0
            self._connections = 0
