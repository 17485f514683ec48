"""Helpers for the snapshot download tests: a tiny loopback file server with scripted misbehaviour."""

from __future__ import annotations

import bisect
import gzip
import hashlib
import random
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_RANGE = re.compile(r"^bytes=(\d+)-$")


def make_archive(size: int, seed: int = 7) -> bytes:
    """
    Return a valid gzip file of about ``size`` bytes (incompressible content, deterministic).

    :param size: the wanted length, give or take a few dozen bytes.
    :param seed: the content's seed.
    """
    return gzip.compress(random.Random(seed).randbytes(size), compresslevel=1, mtime=0)


def sha256_of(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def served_sha256(url: str) -> tuple[int, str]:
    """Fetch ``url`` again (a link that is not single-use) and return its length and sha256."""
    digest = hashlib.sha256()
    size = 0
    with requests.get(url, stream=True, timeout=30) as response:
        response.raise_for_status()
        for chunk in response.raw.stream(1 << 20, decode_content=False):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@dataclass
class Served:
    """What the file server answered to one request."""

    range_header: str | None
    status: int
    body_bytes: int


@dataclass
class FileServer:
    """
    Serve one payload at ``/download/<secret>/file.tar.gz`` on loopback, misbehaving on request.

    :param payload: the bytes served.
    :param honour_range: answer ``Range: bytes=N-`` with 206; when false, always 200 and the whole file.
    :param cuts: body bytes to send before closing, one entry per request in order (``None``: all).
    :param statuses: error statuses to answer, one entry per request in order, before ``cuts``.
    :param length_delta: add this to the announced ``Content-Length`` (a lying server).
    :param range_shift: add this to the start of the ``Content-Range`` of a 206 (a confused server).
    :param etag: an ``ETag`` to send with the file.
    :param redirect: answer the link with a 302 to another secret path, which serves the file.
    """

    payload: bytes
    honour_range: bool = True
    cuts: list[int | None] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    length_delta: int = 0
    range_shift: int = 0
    etag: str | None = None
    redirect: bool = False
    if_range: list[str | None] = field(default_factory=list)
    #: The requests answered, in the order they arrived (not the order their answers ended).
    served: list[Served] = field(default_factory=list)
    secret: str = field(default_factory=lambda: f"s3cr3t-{uuid.uuid4().hex}")
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _active: int = 0
    _arrivals: int = 0
    _arrival_order: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The secret link to the payload."""
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/download/{self.secret}/file.tar.gz"

    @property
    def bytes_sent(self) -> int:
        """Body bytes sent in all requests."""
        with self._lock:
            return sum(item.body_bytes for item in self.served)

    def __enter__(self) -> FileServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                with owner._idle:
                    owner._active += 1
                try:
                    owner._answer(self)
                finally:
                    with owner._idle:
                        owner._active -= 1
                        owner._idle.notify_all()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        with self._idle:  # every answer fully sent and recorded before the test reads ``served``
            self._idle.wait_for(lambda: self._active == 0, timeout=10)
        self._server.shutdown()
        self._server.server_close()

    def _next(self, queue: list[Any]) -> Any:
        with self._lock:
            return queue.pop(0) if queue else None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._arrivals += 1
            arrival = self._arrivals
        range_header = handler.headers.get("Range")
        if self.redirect and handler.path.startswith("/download/"):
            handler.send_response(302)
            handler.send_header("Location", f"/moved/{self.secret}-moved/file.tar.gz")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            self._record(arrival, range_header, 302, 0)
            return
        with self._lock:
            self.if_range.append(handler.headers.get("If-Range"))
        status = self._next(self.statuses)
        if status is not None:
            body = b"busy"
            handler.send_response(status)
            handler.send_header("Content-Length", str(len(body)))
            handler.send_header("Retry-After", "0")
            handler.end_headers()
            handler.wfile.write(body)
            self._record(arrival, range_header, status, 0)
            return
        cut = self._next(self.cuts)
        start = 0
        found = _RANGE.match(range_header or "")
        handler.send_response(206 if found and self.honour_range else 200)
        if found and self.honour_range:
            start = int(found.group(1))
            shown = start + self.range_shift
            handler.send_header("Content-Range", f"bytes {shown}-{len(self.payload) - 1}/{len(self.payload)}")
        body = self.payload[start:]
        handler.send_header("Content-Type", "application/gzip")
        if self.etag:
            handler.send_header("ETag", self.etag)
        handler.send_header("Content-Length", str(len(body) + self.length_delta))
        handler.end_headers()
        if cut is not None:
            body = body[:cut]
            handler.close_connection = True
        sent = 0
        try:
            for chunk in _chunks(body):
                handler.wfile.write(chunk)
                sent += len(chunk)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True
        if self.length_delta:
            handler.close_connection = True
        self._record(arrival, range_header, 206 if found and self.honour_range else 200, sent)

    def _record(self, arrival: int, range_header: str | None, status: int, sent: int) -> None:
        # An answer the client gave up on may end after the next request's: keep arrival order.
        with self._lock:
            at = bisect.bisect(self._arrival_order, arrival)
            self._arrival_order.insert(at, arrival)
            self.served.insert(at, Served(range_header, status, sent))


def _chunks(body: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), size):
        yield bytes(view[start : start + size])


class FakeClock:
    """A monotonic clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now
