"""Fault injection: make the next N requests of a route fail in a chosen way."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal, get_args

from airflow_provider_atlas_restore.testing.flex_records import FLEX_ROUTE_NAMES

__all__ = ["ROUTE_NAMES", "Fault", "FaultKind", "FaultRegistry"]

FaultKind = Literal["status", "html", "reset", "delay", "insert_job", "remove_job", "cut", "corrupt"]

#: Names accepted by ``route=`` in faults and stats ("*" matches all of them).
ROUTE_NAMES = (
    "list_restore_jobs",
    "create_restore_job",
    "get_restore_job",
    "cancel_restore_job",
    "list_snapshots",
    "get_snapshot",
    "list_sharded_snapshots",
    "get_sharded_snapshot",
    "get_project",
    "list_projects",
    "get_cluster",
    "get_backup_schedule",
    "take_snapshot",
    "delete_snapshot",
    "update_snapshot_retention",
    "list_export_buckets",
    "create_export_bucket",
    "get_export_bucket",
    "list_export_jobs",
    "create_export_job",
    "get_export_job",
    "list_collection_restore_jobs",
    "create_collection_restore_job",
    "get_collection_restore_job",
    "list_restored_collections",
    "get_restored_collection",
    "download",
    "private_download",
    "oauth_token",
    *FLEX_ROUTE_NAMES,
)
_DEFAULT_STATUS = {"status": 503, "html": 502}


@dataclass
class Fault:
    """One armed fault; see :meth:`FaultRegistry.add` for the fields."""

    route: str
    kind: FaultKind
    count: int | None
    skip: int
    status: int
    retry_after: int | None
    seconds: float
    after_bytes: int
    method: str | None
    job_id: str | None
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        """True once the fault has fired ``count`` times."""
        return self.count is not None and self.fired >= self.count


class FaultRegistry:
    """Armed faults, matched against each request after it has authenticated (thread-safe).

    Faults act on requests the emulator would otherwise serve: an unauthenticated Digest
    request still gets its 401 challenge first, so ``count`` counts what the client sees.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        route: str = "*",
        kind: FaultKind = "status",
        *,
        count: int | None = 1,
        skip: int = 0,
        status: int | None = None,
        retry_after: int | None = None,
        seconds: float = 0.0,
        after_bytes: int = 0,
        method: str | None = None,
        job_id: str | None = None,
    ) -> Fault:
        """Arm a fault and return it.

        :param route: a name from :data:`ROUTE_NAMES`, or ``"*"`` for every route.
        :param kind: ``status`` (JSON Atlas error, default 503), ``html`` (HTML error page,
            default 502), ``reset`` (close the connection with a TCP RST, no answer),
            ``delay`` (sleep ``seconds`` of real time, then answer normally), ``insert_job``
            (create a new restore job on the request's cluster, then answer), ``remove_job``
            (remove ``job_id`` or the newest job of the request's cluster, then answer),
            ``cut`` (send headers with the full Content-Length, ``after_bytes`` bytes of the
            body, then close), ``corrupt`` (send the whole body with the byte at offset
            ``after_bytes`` of the body flipped: a download whose bytes are damaged on the way).
        :param count: how many matching requests it acts on; None for all of them.
        :param skip: let this many matching requests through first (e.g. ``skip=1`` acts
            from the second request on).
        :param status: HTTP status for ``status`` and ``html`` faults.
        :param retry_after: seconds for a ``Retry-After`` header (``status`` faults).
        :param seconds: sleep for ``delay`` faults.
        :param after_bytes: body bytes sent before a ``cut``; the body offset of the byte a ``corrupt`` flips.
        :param method: only match this HTTP method.
        :param job_id: job to remove for ``remove_job``.
        """
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}; use one of {get_args(FaultKind)}")
        if route != "*" and route not in ROUTE_NAMES:
            raise ValueError(f"unknown route {route!r}; use '*' or one of {ROUTE_NAMES}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for always)")
        code = status if status is not None else _DEFAULT_STATUS.get(kind, 0)
        if kind in ("status", "html") and not 400 <= code <= 599:
            raise ValueError(f"a {kind} fault needs a 4xx or 5xx status, not {code}")
        if kind == "delay" and seconds <= 0:
            raise ValueError("a delay fault needs seconds > 0")
        if after_bytes < 0 or skip < 0:
            raise ValueError("after_bytes and skip must not be negative")
        fault = Fault(
            route=route,
            kind=kind,
            count=count,
            skip=skip,
            status=code,
            retry_after=retry_after,
            seconds=seconds,
            after_bytes=after_bytes,
            method=method.upper() if method else None,
            job_id=job_id,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, route: str, method: str) -> list[Fault]:
        """Return the faults that act on this request, consuming one use of each.

        :param route: the request's route name.
        :param method: the request's HTTP method.
        """
        fired: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.route not in ("*", route) or (fault.method and fault.method != method.upper()):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.fired += 1
                fired.append(fault)
            self._faults = [f for f in self._faults if not f.exhausted]
        return fired

    @property
    def pending(self) -> list[Fault]:
        """Faults still armed."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
