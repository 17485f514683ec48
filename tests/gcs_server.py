"""A real GCS JSON-API server for the tests: ``gcp-storage-emulator`` in a subprocess on loopback.

:class:`GcsEmulatorServer` starts the emulator (in memory) on a free 127.0.0.1 port, logs to a
temporary file, waits until it answers, and stops it by its pid. gcsfs reaches it through
``endpoint_url`` with anonymous credentials (:meth:`GcsEmulatorServer.file_system`).

The emulator lacks two GCS behaviours that atomic uploads rely on. Unless ``fill_gaps`` is
false, this module's launcher (run as a script: ``python tests/gcs_server.py --port N``) adds
them to the emulator's routes before serving, each as GCS documents it:

- cancelling a resumable upload: ``DELETE`` on the session URI drops the session and answers
  499 (the plain emulator answers 501, which gcsfs retries for about half a minute, then raises);
- ``PATCH`` of an object's custom ``metadata`` merges keys, a null value deleting its key (the
  plain emulator replaces the whole ``metadata`` map with the one sent).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path
from typing import Any

__all__ = ["GCS_PROJECT", "LOOPBACK", "GcsEmulatorServer"]

LOOPBACK = "127.0.0.1"
#: The project named on bucket creation (the emulator accepts any).
GCS_PROJECT = "atlas-test"
#: Tries at starting the server, each on a new free port.
START_ATTEMPTS = 3
#: HTTP status GCS answers when a resumable upload session is cancelled.
UPLOAD_CANCELLED = 499

log = logging.getLogger(__name__)


def free_loopback_port() -> int:
    """Return a TCP port of the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class GcsEmulatorServer:
    """
    ``gcp-storage-emulator`` serving in memory on a free loopback port, in a subprocess of its own.

    :param fill_gaps: add the two GCS behaviours the emulator lacks (see the module docstring);
        false serves the emulator exactly as installed.
    :param ready_timeout: seconds to wait for the server to answer its health check.
    """

    def __init__(self, *, fill_gaps: bool = True, ready_timeout: float = 30.0) -> None:
        self.fill_gaps = fill_gaps
        self.ready_timeout = ready_timeout
        self.port = 0
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def endpoint_url(self) -> str:
        """Return the server's base URL, ``http://127.0.0.1:PORT`` (what gcsfs takes as ``endpoint_url``)."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> GcsEmulatorServer:
        """Start the subprocess and return once it answers; raise with its log if it does not."""
        failure = ""
        for _attempt in range(START_ATTEMPTS):  # another process may take the free port first
            self._launch()
            failure = self._wait_ready()
            if not failure:
                return self
            failure = f"{failure}:\n{self.log_tail()}"
            self.stop()
        raise RuntimeError(failure)

    def _launch(self) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="atlas-gcs-emulator-")
        self.port = free_loopback_port()
        self.log_path = Path(self._workdir.name) / "gcs-emulator.log"
        command = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port)]
        if not self.fill_gaps:
            command.append("--as-installed")
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                cwd=self._workdir.name,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        log.info("GCS emulator pid %d on %s, log %s", self._process.pid, self.endpoint_url, self.log_path)

    def _wait_ready(self) -> str:
        """Wait for the health check to answer ``OK``; return why it did not, or ``""``."""
        assert self._process is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"the GCS emulator exited with {self._process.returncode}"
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=2) as answer:
                    if answer.read() == b"OK":
                        return ""
            except OSError:
                time.sleep(0.05)
        return f"the GCS emulator did not answer within {self.ready_timeout} s"

    def log_tail(self, lines: int = 30) -> str:
        """Return the last ``lines`` lines of the server's log."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def file_system(self, **options: Any) -> Any:
        """
        Return a new ``gcsfs`` file system bound to this server, anonymous, outside fsspec's instance cache.

        It is ``gcsfs.core.GCSFileSystem``, not ``gcsfs.GCSFileSystem``: the latter (gcsfs's
        experimental zonal/HNS subclass, on by default) asks a gRPC Storage Control endpoint for
        each bucket's layout, which the emulator does not serve: 60 s of retries per operation.

        :param options: more ``GCSFileSystem`` arguments (e.g. ``block_size``).
        """
        from gcsfs.core import GCSFileSystem

        settings: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "token": "anon",
            "project": GCS_PROJECT,
            "skip_instance_cache": True,
            **options,
        }
        return GCSFileSystem(**settings)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """
        Send one JSON request to the server; return its status and body (errors included).

        :param method: the HTTP method.
        :param path: the path and query, from ``/``, or a full URL on this server.
        :param body: a JSON body, if any.
        """
        url = path if path.startswith(self.endpoint_url) else f"{self.endpoint_url}{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def create_bucket(self, name: str) -> str:
        """
        Create the bucket ``name`` on the server and return its name.

        :param name: a GCS bucket name (lowercase letters, digits, dashes).
        """
        status, body = self.request("POST", f"/storage/v1/b?project={GCS_PROJECT}", {"name": name})
        if status != 200:
            raise RuntimeError(f"bucket {name!r} was not created: {status} {body[:200]!r}")
        return name

    def stop(self) -> None:
        """Stop the subprocess by its pid (SIGTERM, then SIGKILL after 5 s) and remove its folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


# --- the launcher: runs in the subprocess --------------------------------------------------------


def _cancel_resumable_upload(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> None:
    """Drop the resumable session named by ``upload_id`` and answer 499, as GCS does."""
    from gcp_storage_emulator.exceptions import NotFound
    from gcp_storage_emulator.storage import RESUMABLE_DIR

    upload_ids = request.query.get("upload_id") or []
    if not upload_ids:
        response.status = HTTPStatus.BAD_REQUEST
        return
    upload_id = upload_ids[0]
    try:
        storage.delete_resumable_file_obj(upload_id)
    except NotFound:
        response.status = HTTPStatus.NOT_FOUND
        return
    storage._delete_file(RESUMABLE_DIR, storage.safe_id(upload_id))
    storage._write_config_to_file()
    response.status = _status(UPLOAD_CANCELLED, "Client Closed Request")


def _status(code: int, phrase: str) -> Any:
    """Return a status the emulator's ``Response.close`` can send (``HTTPStatus`` has no 499)."""
    return argparse.Namespace(value=code, phrase=phrase)


def _merging_patch(original: Any) -> Any:
    """Wrap the emulator's object PATCH handler so custom metadata merges keys, as GCS does."""
    from gcp_storage_emulator.exceptions import NotFound

    def patch(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
        sent = request.data
        if isinstance(sent, dict) and isinstance(sent.get("metadata"), dict):
            try:
                stored = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
            except NotFound:
                stored = {}
            merged = {**(stored.get("metadata") or {}), **sent["metadata"]}
            sent["metadata"] = {key: value for key, value in merged.items() if value is not None}
        return original(request, response, storage, *args, **kwargs)

    return patch


def fill_emulator_gaps() -> None:
    """Add resumable-upload cancel and merging metadata PATCH to the emulator's routes (in place)."""
    from gcp_storage_emulator import server, settings

    upload_routes = [
        handlers
        for regex, handlers in server.HANDLERS
        if regex.startswith(f"^{settings.UPLOAD_API_ENDPOINT}/b/")
    ]
    object_routes = [
        handlers
        for regex, handlers in server.HANDLERS
        if regex.endswith(r"/o/(?P<object_id>.*[^/]+)$") and server.PATCH in handlers
    ]
    if len(upload_routes) != 1 or not object_routes:
        raise RuntimeError("gcp-storage-emulator's routes changed: review tests/gcs_server.py")
    upload_routes[0][server.DELETE] = _cancel_resumable_upload
    for handlers in object_routes:
        handlers[server.PATCH] = _merging_patch(handlers[server.PATCH])


def main(arguments: list[str] | None = None) -> None:
    """
    Serve the emulator in memory on 127.0.0.1 until terminated.

    :param arguments: the command line (``--port N``, optionally ``--as-installed``); default ``sys.argv``.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--as-installed", action="store_true", help="serve without filling the gaps")
    options = parser.parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from gcp_storage_emulator.server import create_server

    # The emulator hangs, not exits, when its port is taken: fail at once instead (start() retries).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, options.port))

    if not options.as_installed:
        fill_emulator_gaps()
    # Storage insists on an absolute folder even in memory; it writes nothing there.
    server = create_server(LOOPBACK, options.port, in_memory=True, data_dir=os.getcwd())
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.start()
        log.info("GCS emulator ready on %s:%d", LOOPBACK, options.port)
        signal.pause()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
