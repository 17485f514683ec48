"""Request counters for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

__all__ = ["AnsweredRequest", "Stats"]

#: How many answers the request log keeps (the oldest are dropped beyond it); counts keep all.
REQUEST_LOG_LIMIT = 100_000


@dataclass(frozen=True)
class AnsweredRequest:
    """One answer in the request log, in the order answered.

    :param route: route name (``unknown`` if none matched).
    :param method: HTTP method, upper case.
    :param status: HTTP status sent, 0 for a reset connection.
    :param path: the request's path, without the query (it names the project, cluster and job).
    """

    route: str
    method: str
    status: int
    path: str


class Stats:
    """Thread-safe counts of answers by route, method and status, plus auth challenges, and a request log.

    A connection reset by a fault is counted with status 0. The log (:meth:`requests`) keeps
    each answer's path too, so a test can count the requests about one cluster or job.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: Counter[tuple[str, str, int]] = Counter()
        self._challenges = 0
        self._connections = 0
        self._log: deque[AnsweredRequest] = deque(maxlen=REQUEST_LOG_LIMIT)

    def record(self, route: str, method: str, status: int, path: str = "") -> None:
        """Count one answer and add it to the request log.

        :param route: route name, e.g. ``list_restore_jobs`` (``unknown`` if none matched).
        :param method: HTTP method.
        :param status: HTTP status sent, 0 for a reset connection.
        :param path: the request's path, without the query.
        """
        with self._lock:
            self._answers[(route, method.upper(), status)] += 1
            self._log.append(AnsweredRequest(route, method.upper(), status, path))

    def requests(self, route: str | None = None, path_contains: str | None = None) -> list[AnsweredRequest]:
        """Return the logged answers matching every filter given (all when none), oldest first.

        :param route: route name filter.
        :param path_contains: keep answers whose path contains this text, e.g. ``"/clusters/Cluster0/"``.
        """
        with self._lock:
            return [
                answered
                for answered in self._log
                if (route is None or answered.route == route)
                and (path_contains is None or path_contains in answered.path)
            ]

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
            self._log.clear()
            self._challenges = 0
            self._connections = 0
