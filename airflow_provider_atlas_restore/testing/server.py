"""The HTTP side: a threaded HTTP/1.1 keep-alive server that runs the request pipeline.

Pipeline for an API request: route -> authentication (Digest or Bearer; 401 challenge) ->
armed faults -> IP access list (403) -> v1.0 sunset (410) -> v2 ``Accept`` (406) -> handler.
Downloads and the token endpoint skip authentication. Every answer gets the configured
latency, is counted in the stats before it is written, and always carries Content-Length.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from airflow_provider_atlas_restore.testing.cluster_payloads import VERSIONED_ROUTES, negotiate
from airflow_provider_atlas_restore.testing.digest import DigestAuthenticator, DigestOutcome
from airflow_provider_atlas_restore.testing.downloads import Downloads
from airflow_provider_atlas_restore.testing.errors import AtlasError
from airflow_provider_atlas_restore.testing.faults import Fault, FaultRegistry
from airflow_provider_atlas_restore.testing.flex_downloads import FlexDownloads
from airflow_provider_atlas_restore.testing.handlers import ApiHandlers, error_answer, json_bytes
from airflow_provider_atlas_restore.testing.payloads import V2_MEDIA_TYPE
from airflow_provider_atlas_restore.testing.routes import Answer, Request, match_route
from airflow_provider_atlas_restore.testing.state import Store
from airflow_provider_atlas_restore.testing.stats import Stats
from airflow_provider_atlas_restore.testing.switches import Settings
from airflow_provider_atlas_restore.testing.tokens import ServiceAccounts

__all__ = ["App", "HttpServer"]

logger = logging.getLogger(__name__)

UNAUTHORIZED = AtlasError(401, None, "You are not authorized for this resource.")
#: Routes served without Atlas credentials: bearer download links, and the token endpoint.
_UNAUTHENTICATED = ("download", "private_download", "oauth_token", "flex_snapshot_file")
_FAULT_CODES = {429: "RATE_LIMITED", 500: "UNEXPECTED_ERROR", 503: "SERVICE_UNAVAILABLE"}
_HTML = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n</body>\r\n</html>\r\n"


class App(Protocol):
    """What the HTTP layer needs from the emulator."""

    store: Store
    settings: Settings
    faults: FaultRegistry
    stats: Stats
    digest: DigestAuthenticator
    accounts: ServiceAccounts
    api: ApiHandlers
    downloads: Downloads
    flex_downloads: FlexDownloads
    stopping: threading.Event


def _fault_answer(fault: Fault, route: str) -> Answer:
    status = fault.status
    phrase = f"{status} {HTTPStatus(status).phrase}"
    if fault.kind == "html":
        return Answer(status, {"Content-Type": "text/html"}, _HTML.format(phrase).encode())
    code = _FAULT_CODES.get(status, HTTPStatus(status).name)
    if status == 429:
        wait = fault.retry_after if fault.retry_after is not None else 60
        detail = (
            f"Rate limit exceeded for {route}. Please retry after {wait} seconds. "
            "Request capacity: 100. Refill rate: 100 per 60 seconds."
        )
        error = AtlasError(429, code, detail, [route, wait, 100, 100, 60])
    elif status == 503:
        error = AtlasError(503, code, "Service Unavailable.")
    else:
        error = AtlasError(status, code, f"Unexpected error ({phrase}).")
    answer = error_answer(error)
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = str(fault.retry_after)
    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "AtlasEmulator"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_GET

    # -- pipeline ------------------------------------------------------------------------
    def _dispatch(self) -> None:
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        found = match_route(self.command, split.path)
        route = found.name if found and found.name else "unknown"
        req = Request(
            method=self.command,
            target=self.path,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
            params=found.params if found else {},
            client_ip=self.client_address[0],
        )
        reset, cut = False, None
        if found is None:
            answer = error_answer(
                AtlasError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {split.path}.")
            )
        elif found.name is None:
            answer = error_answer(
                AtlasError(
                    405, "METHOD_NOT_ALLOWED", f"Method {self.command} is not allowed.", [self.command]
                )
            )
            answer.headers["Allow"] = ", ".join(found.allowed)
        else:
            answer, reset, cut = self._route(app, route, req)
        if route not in (*_UNAUTHENTICATED, "unknown"):
            self._rate_headers(app, answer)
        if app.settings.latency > 0:
            app.stopping.wait(app.settings.latency)
        app.stats.record(route, self.command, 0 if reset else answer.status, split.path)
        if reset:
            self._reset()
        else:
            self._write(answer, cut)

    def _route(self, app: App, route: str, req: Request) -> tuple[Answer, bool, int | None]:
        if route not in _UNAUTHENTICATED:
            denied = self._authenticate(app, req)
            if denied is not None:
                return denied, False, None
        answer: Answer | None = None
        reset, cut, corrupt_at = False, None, None
        for fault in app.faults.take(route, req.method):
            if fault.kind == "delay":
                app.stopping.wait(fault.seconds)
            elif fault.kind in ("insert_job", "remove_job") and "cluster_name" in req.params:
                self._mutate(app, fault, req)
            elif fault.kind == "reset":
                reset = True
            elif fault.kind == "cut":
                cut = fault.after_bytes
            elif fault.kind == "corrupt":
                corrupt_at = fault.after_bytes
            elif fault.kind in ("status", "html") and answer is None:
                answer = _fault_answer(fault, req.path.lstrip("/"))
        if answer is None:
            answer = self._serve(app, route, req)
        if corrupt_at is not None and answer.stream is not None:
            answer.stream = _flip_byte(answer.stream, corrupt_at)
        return answer, reset, cut

    def _serve(self, app: App, route: str, req: Request) -> Answer:
        if route in ("download", "private_download"):
            return app.downloads.handle(req)
        if route == "flex_snapshot_file":
            return app.flex_downloads.handle(req)
        if route == "oauth_token":
            issued = app.accounts.issue(
                req.headers.get("Authorization"), req.headers.get("Content-Type", ""), req.body
            )
            headers = {"Content-Type": "application/json", **issued.headers}
            return Answer(issued.status, headers, json_bytes(issued.body))
        if app.settings.ip_access_denied:
            ip = req.client_ip
            detail = f"IP address {ip} is not allowed to access this resource."
            return error_answer(AtlasError(403, "IP_ADDRESS_NOT_ON_ACCESS_LIST", detail, [ip]))
        if req.version == "v1.0" and app.settings.v1_gone:
            detail = "The requested API version v1.0 has been sunset and is no longer available."
            return error_answer(AtlasError(410, "VERSION_GONE", detail, ["v1.0"]))
        if req.version == "v2" and negotiate(route, req.headers.get("Accept", "")) is None:
            wanted = VERSIONED_ROUTES.get(route, (V2_MEDIA_TYPE,))[0]
            detail = f"Invalid accept header or version date. Use Accept: {wanted}."
            return error_answer(AtlasError(406, "INVALID_ACCEPT_HEADER", detail, [wanted]))
        return app.api.handle(route, req)

    def _mutate(self, app: App, fault: Fault, req: Request) -> None:
        group_id, cluster_name = req.params.get("group_id", ""), req.params["cluster_name"]
        try:
            if app.store.flex.is_flex(group_id, cluster_name):
                app.store.flex.mutate(
                    fault.kind, group_id, cluster_name, fault.job_id, app.settings.ready_after
                )
            elif fault.kind == "insert_job":
                app.store.add_job(group_id, cluster_name, "download", None, app.settings.ready_after)
            else:
                app.store.remove_job(group_id, cluster_name, fault.job_id)
        except (AtlasError, ValueError):
            logger.debug("fault %s found nothing to act on at %s", fault.kind, req.path)

    def _authenticate(self, app: App, req: Request) -> Answer | None:
        scheme, _, rest = req.headers.get("Authorization", "").partition(" ")
        stale = False
        if scheme.lower() == "bearer":
            if app.accounts.bearer_valid(rest.strip()):
                return None
        elif scheme.lower() == "digest":
            outcome, _user = app.digest.verify(rest, req.method, req.target)
            if outcome is DigestOutcome.OK:
                return None
            stale = outcome is DigestOutcome.STALE
        answer = error_answer(UNAUTHORIZED)
        answer.headers["WWW-Authenticate"] = app.digest.challenge(stale=stale)
        app.stats.record_challenge()
        return answer

    @staticmethod
    def _rate_headers(app: App, answer: Answer) -> None:
        limit = app.settings.rate_limit
        used = app.stats.count() % limit
        answer.headers.setdefault("RateLimit-Limit", str(limit))
        answer.headers.setdefault("RateLimit-Remaining", str(max(0, limit - 1 - used)))

    # -- writing -------------------------------------------------------------------------
    def _write(self, answer: Answer, cut: int | None) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(answer.content_length))
        self.end_headers()
        if self.command == "HEAD" or answer.content_length == 0:
            return
        chunks = answer.stream if answer.stream is not None else iter((answer.body,))
        sent = 0
        try:
            current = next(chunks, None)
            while current is not None:
                following = next(chunks, None)
                if cut is not None and sent + len(current) > cut:
                    self.wfile.write(current[: cut - sent])
                    self.close_connection = True
                    return
                if following is None and answer.on_complete is not None:
                    # Before the last write, so a client holding every byte sees the effect.
                    answer.on_complete()
                self.wfile.write(current)
                sent += len(current)
                current = following
        except OSError:
            logger.debug("client went away after %d bytes of %s", sent, self.path)
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection without answering: SO_LINGER 0 makes close() send a TCP RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            logger.debug("socket already gone while resetting")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a thousand triggers may connect at once

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (slow without DNS); skip that.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
                self.app.stats.record_connection()
            else:
                self._connections.discard(sock)

    def drop_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("error while serving %s: %r", client_address, sys.exc_info()[1])


class HttpServer:
    """Run the emulator's HTTP server on a background thread.

    :param app: the emulator.
    :param host: interface to bind (loopback by default).
    :param port: port to bind; 0 picks a free one.
    """

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.server_port

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        self._server = _Server((self._host, self._port), self._app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="atlas-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.debug("Atlas emulator listening on %s:%d", self._host, self.port)

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None


def _flip_byte(chunks: Iterator[bytes], offset: int) -> Iterator[bytes]:
    """Yield ``chunks`` with the byte at ``offset`` of the whole stream inverted."""
    start = 0
    for chunk in chunks:
        if start <= offset < start + len(chunk):
            damaged = bytearray(chunk)
            damaged[offset - start] ^= 0xFF
            chunk = bytes(damaged)
        start += len(chunk)
        yield chunk
