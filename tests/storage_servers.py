"""Real S3 servers on loopback for the tests: moto's standalone server, and a byte-counting proxy.

:class:`MotoS3Server` runs ``python -m moto.server`` (a real S3-compatible HTTP server) in a
subprocess; :class:`MotoS3ServerWithIam` is one that enforces credentials and IAM policies, with an
admin and a read-only user; :class:`CountingProxy` forwards TCP to a server and counts the bytes
each way. Nothing here listens on or connects to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
#: The schemes Airflow's Amazon provider registers for S3; each has its own store per connection.
S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass(frozen=True)
class S3Credentials:
    """
    One access key, as boto3 and an Airflow ``aws`` connection (login, password) sign with it.

    A server without IAM accepts the defaults; Airflow's secrets masker masks the secret (it skips
    secrets under 5 characters), so a test can look for it in logs.

    :param access_key_id: the access key id.
    :param secret_access_key: the secret access key.
    """

    access_key_id: str = "atlas-test-access-key"
    secret_access_key: str = "atlas-test-secret-key-5e2c0b"


def forget_object_stores(conn_id: str) -> None:
    """
    Drop Airflow's cached object stores for ``conn_id``, and s3fs's cached file systems.

    Airflow keeps one store, holding one file system, per ``<scheme>-<conn_id>`` for the whole
    process (``airflow.sdk.io.store`` on 3.x, ``airflow.io.store`` on 2.11): a connection id pointed
    somewhere new would otherwise keep reaching the old endpoint with the old credentials. s3fs
    caches instances by their arguments, so a server on a port an earlier one used could otherwise
    be handed the earlier one's file system.

    :param conn_id: the Airflow connection id.
    """
    for module_name in ("airflow.sdk.io.store", "airflow.io.store"):
        cache: dict[str, Any] = getattr(sys.modules.get(module_name), "_STORE_CACHE", {})
        for scheme in S3_SCHEMES:
            cache.pop(f"{scheme}-{conn_id}", None)
    if (s3fs := sys.modules.get("s3fs")) is not None:
        s3fs.S3FileSystem.clear_instance_cache()


class MotoS3Server:
    """
    Moto's standalone server (``python -m moto.server``) on a free 127.0.0.1 port, in a subprocess.

    :param log_folder: where ``moto.log`` goes; a temporary folder (removed by :meth:`stop`) if not given.
    :param initial_no_auth_action_count: IAM mode: moto serves this many requests unchecked, then
        enforces signatures and IAM policies on every request.
    :param start_timeout: seconds to wait for the server to answer.
    """

    def __init__(
        self,
        log_folder: Path | None = None,
        *,
        initial_no_auth_action_count: int | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self._own_log_folder = log_folder is None
        self.log_folder = Path(tempfile.mkdtemp(prefix="moto-s3-")) if log_folder is None else log_folder
        self.log_path = self.log_folder / "moto.log"
        self.initial_no_auth_action_count = initial_no_auth_action_count
        self.start_timeout = start_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """Return the server's base URL, ``http://127.0.0.1:PORT``."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, attempts: int = 3) -> MotoS3Server:
        """
        Start the server and wait until it answers; return it.

        :param attempts: ports to try, in case another process takes the chosen free port first.
        """
        for attempt in range(1, attempts + 1):
            with socket.create_server((LOOPBACK, 0)) as probe:  # a port nothing listens on just now
                self.port = int(probe.getsockname()[1])
            self._process = self._launch()
            if self._wait_until_answering():
                log.info("moto S3 server pid %s listening at %s", self._process.pid, self.endpoint_url)
                return self
            self.stop(remove_logs=False)
            log.warning("moto S3 server did not answer on port %s (attempt %s)", self.port, attempt)
        output = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        raise RuntimeError(f"moto S3 server did not start; {self.log_path}:\n{output[-4000:]}")

    def _launch(self) -> subprocess.Popen[bytes]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        environment.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        environment["MOTO_PORT"] = str(self.port)
        if self.initial_no_auth_action_count is not None:
            environment["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.initial_no_auth_action_count)
        self.log_folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            return subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=environment,
            )

    def _wait_until_answering(self) -> bool:
        # /moto-api/ is moto's own dashboard: it is not one of the unauthenticated actions it counts.
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and self._process is not None and self._process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2) as answer:
                    return bool(answer.status == 200)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        return False

    def stop(self, grace_seconds: float = 5.0, *, remove_logs: bool = True) -> None:
        """
        Stop the server's process by its id: SIGTERM, then SIGKILL after ``grace_seconds``.

        :param grace_seconds: how long the server may take to exit after SIGTERM.
        :param remove_logs: also remove the log folder, if this server made it.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                log.warning("moto S3 server pid %s ignored SIGTERM; killing it", process.pid)
                process.kill()
                process.wait()
        if remove_logs and self._own_log_folder:
            shutil.rmtree(self.log_folder, ignore_errors=True)

    def client(
        self,
        credentials: S3Credentials | None = None,
        *,
        service: str = "s3",
        endpoint_url: str | None = None,
    ) -> Any:
        """
        Return a boto3 client of this server (S3 unless ``service`` says otherwise).

        :param credentials: the access key; the default :class:`S3Credentials` if not given.
        :param service: the AWS service, e.g. ``iam``.
        :param endpoint_url: another address in front of this server (a :class:`CountingProxy`).
        """
        import boto3
        from botocore.config import Config

        credentials = credentials or S3Credentials()
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint_url or self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def connection(
        self, credentials: S3Credentials | None = None, *, endpoint_url: str | None = None
    ) -> dict[str, Any]:
        """
        Return an Airflow ``aws`` connection (as a dict) to this server.

        :param credentials: the access key; the default :class:`S3Credentials` if not given.
        :param endpoint_url: another address in front of this server (a :class:`CountingProxy`).
        """
        credentials = credentials or S3Credentials()
        return {
            "conn_type": "aws",
            "login": credentials.access_key_id,
            "password": credentials.secret_access_key,
            "extra": {"endpoint_url": endpoint_url or self.endpoint_url, "region_name": REGION},
        }

    def connection_json(
        self, credentials: S3Credentials | None = None, *, endpoint_url: str | None = None
    ) -> str:
        """
        Return an ``AIRFLOW_CONN_...`` value, JSON form, for :meth:`connection`.

        :param credentials: as for :meth:`connection`.
        :param endpoint_url: as for :meth:`connection`.
        """
        return json.dumps(self.connection(credentials, endpoint_url=endpoint_url))

    def connection_uri(
        self, credentials: S3Credentials | None = None, *, endpoint_url: str | None = None
    ) -> str:
        """
        Return an ``AIRFLOW_CONN_...`` value, URI form, for :meth:`connection`.

        :param credentials: as for :meth:`connection`.
        :param endpoint_url: as for :meth:`connection`.
        """
        connection = self.connection(credentials, endpoint_url=endpoint_url)
        login, password = (urllib.parse.quote(connection[field], safe="") for field in ("login", "password"))
        return f"aws://{login}:{password}@/?{urllib.parse.urlencode(connection['extra'])}"


#: Requests :meth:`MotoS3ServerWithIam.start` sends before moto enforces IAM: for each of two
#: users, CreateUser, PutUserPolicy and CreateAccessKey.
IAM_SETUP_ACTIONS = 6
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
}


@dataclass
class MotoS3ServerWithIam:
    """
    A moto server that enforces IAM, with an admin and a user allowed only GetObject and ListBucket.

    :param server: the running server, in IAM mode.
    :param admin: the access key of the user allowed every action.
    :param read_only: the access key of the user allowed only ``s3:GetObject`` and ``s3:ListBucket``.
    """

    server: MotoS3Server
    admin: S3Credentials
    read_only: S3Credentials

    @classmethod
    def start(cls, log_folder: Path | None = None) -> MotoS3ServerWithIam:
        """
        Start a server in IAM mode, make both users in its unchecked requests, check it then enforces.

        :param log_folder: where the server's log goes (as for :class:`MotoS3Server`).
        """
        server = MotoS3Server(log_folder, initial_no_auth_action_count=IAM_SETUP_ACTIONS).start()
        try:
            iam = server.client(service="iam")
            admin = create_user_with_key(iam, "atlas-test-admin", ADMIN_POLICY)
            read_only = create_user_with_key(iam, "atlas-test-read-only", READ_ONLY_POLICY)
            enforcing = cls(server, admin, read_only)
            enforcing.check_credentials_are_enforced()
        except BaseException:
            server.stop(remove_logs=False)
            raise
        return enforcing

    def check_credentials_are_enforced(self) -> None:
        """Raise unless the server refuses an unknown access key and accepts the admin's."""
        from botocore.exceptions import ClientError

        try:
            self.server.client(S3Credentials("unknown-key", "unknown-secret")).list_buckets()
        except ClientError as error:
            log.debug("moto refuses an unknown key: %s", error.response["Error"]["Code"])
        else:
            raise RuntimeError(f"moto at {self.server.endpoint_url} accepted an unknown access key")
        self.admin_client().list_buckets()

    def admin_client(self) -> Any:
        """Return a boto3 S3 client signing as the admin."""
        return self.server.client(self.admin)

    def read_only_client(self) -> Any:
        """Return a boto3 S3 client signing as the read-only user."""
        return self.server.client(self.read_only)

    def stop(self) -> None:
        """Stop the server."""
        self.server.stop()


def create_user_with_key(iam: Any, user_name: str, policy: dict[str, Any]) -> S3Credentials:
    """
    Create an IAM user with an inline ``policy`` and an access key (three requests); return the key.

    :param iam: a boto3 IAM client.
    :param user_name: the user's name.
    :param policy: the policy document.
    """
    iam.create_user(UserName=user_name)
    iam.put_user_policy(UserName=user_name, PolicyName="policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return S3Credentials(key["AccessKeyId"], key["SecretAccessKey"])


class CountingProxy:
    """
    A threaded TCP forwarder on 127.0.0.1 that counts the bytes it passes each way.

    Since the last :meth:`reset`: ``bytes_to_server`` (forwarded from clients to the server),
    ``bytes_to_client`` (from the server to clients) and ``connections`` (accepted from clients).

    :param upstream_port: the port on 127.0.0.1 to forward every connection to.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self.bytes_to_server = self.bytes_to_client = self.connections = 0
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    @property
    def endpoint_url(self) -> str:
        """Return the proxy's base URL, ``http://127.0.0.1:PORT``."""
        return f"http://{LOOPBACK}:{self.port}"

    def reset(self) -> None:
        """Set every count back to zero."""
        with self._lock:
            self.bytes_to_server = self.bytes_to_client = self.connections = 0

    def start(self) -> CountingProxy:
        """Start accepting connections; return the proxy."""
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        """Stop accepting, close every forwarded connection and wait for the threads."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for open_socket in sockets:
            with contextlib.suppress(OSError):
                open_socket.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)

    def _spawn(self, target: Any, *arguments: Any) -> None:
        thread = threading.Thread(target=target, args=arguments, daemon=True, name="counting-proxy")
        with self._lock:
            self._threads = [running for running in self._threads if running.is_alive()] + [thread]
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed by stop()
                return
            try:
                server = socket.create_connection((LOOPBACK, self.upstream_port), timeout=10)
            except OSError:
                log.warning("counting proxy cannot reach 127.0.0.1:%s", self.upstream_port)
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            self._spawn(self._forward, client, server)

    def _forward(self, client: socket.socket, server: socket.socket) -> None:
        answers = threading.Thread(target=self._pump, args=(server, client, False), daemon=True)
        answers.start()
        self._pump(client, server, True)
        answers.join()
        with self._lock:
            for open_socket in (client, server):
                self._sockets.remove(open_socket)
                open_socket.close()

    def _pump(self, source: socket.socket, target: socket.socket, to_server: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(256 * 1024):
                target.sendall(chunk)
                with self._lock:
                    if to_server:
                        self.bytes_to_server += len(chunk)
                    else:
                        self.bytes_to_client += len(chunk)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def unfinished_uploads(
    client: Any, bucket: str, prefix: str = "", page_size: int = 1000
) -> list[dict[str, Any]]:
    """
    Return every multipart upload in ``bucket`` neither completed nor aborted (all pages).

    :param client: a boto3 S3 client.
    :param bucket: the bucket.
    :param prefix: only uploads whose key starts with this.
    :param page_size: uploads asked for in one request.
    """
    paginator = client.get_paginator("list_multipart_uploads")
    pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    return [upload for page in pages for upload in page.get("Uploads", [])]


def object_keys(client: Any, bucket: str, prefix: str = "", page_size: int = 1000) -> list[str]:
    """
    Return the key of every object in ``bucket`` under ``prefix`` (all pages).

    :param client: a boto3 S3 client.
    :param bucket: the bucket.
    :param prefix: only keys that start with this.
    :param page_size: keys asked for in one request.
    """
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
