"""A hostile HTTP server on loopback: answers each request with whatever bytes a test scripts.

Unlike the emulator, it can break HTTP on purpose: redirect anywhere, send endless or
close-delimited bodies, trickle one byte at a time, claim ``Content-Encoding: gzip`` over
plain text, or send a gzip bomb. Tests script it with a function from :class:`SeenRequest`
to :class:`Reply`; every request it read is kept in :attr:`HostileServer.requests`.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["HostileServer", "Reply", "SeenRequest", "gzip_bomb", "repeat_bytes"]


@dataclass(frozen=True)
class SeenRequest:
    """
    One request as the hostile server read it.

    :param method: the HTTP method.
    :param target: the request target (path and query).
    :param headers: the header fields, names lowercased.
    :param body: the body, read by ``Content-Length``.
    """

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """Return the target without its query."""
        return self.target.split("?", 1)[0]


@dataclass
class Reply:
    """
    What the hostile server sends back.

    :param status: the status code.
    :param headers: header fields in order (``Content-Length`` is added unless ``close_delimited``
        or already given).
    :param body: the body: bytes, or an iterable of byte chunks sent one after another.
    :param close_delimited: send no ``Content-Length`` and close the connection to end the body.
    :param delay_between_chunks: seconds to wait before each chunk (a trickle).
    :param reason: the reason phrase.
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterable[bytes] = b""
    close_delimited: bool = False
    delay_between_chunks: float = 0.0
    reason: str = "Hostile"


def repeat_bytes(chunk: bytes, total: int) -> Iterator[bytes]:
    """
    Yield ``chunk`` again and again until ``total`` bytes have been yielded (the last one cut).

    :param chunk: the bytes to repeat.
    :param total: how many bytes in all.
    """
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated_size: int) -> bytes:
    """
    Return a small gzip member that inflates to ``inflated_size`` zero bytes.

    :param inflated_size: the size once inflated.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    block = bytes(1 << 20)
    whole, rest = divmod(inflated_size, len(block))
    parts = [compressor.compress(block) for _ in range(whole)]
    parts.append(compressor.compress(bytes(rest)))
    parts.append(compressor.flush())
    return b"".join(parts)


def self_signed_certificate(folder: str) -> tuple[str, str]:
    """
    Write a self-signed certificate for 127.0.0.1 and its key into ``folder``; return both paths.

    :param folder: where to write ``cert.pem`` and ``key.pem``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class HostileServer:
    """
    A threaded raw-socket HTTP/1.1 server on 127.0.0.1 that answers as :attr:`handler` says.

    :param handler: returns the reply to each request; by default ``200 {}``.
    :param tls: serve https with a self-signed certificate, whose file is :attr:`ca_file`.
    """

    def __init__(self, handler: Callable[[SeenRequest], Reply] | None = None, *, tls: bool = False) -> None:
        self.handler: Callable[[SeenRequest], Reply] = handler or (
            lambda request: Reply(headers=[("Content-Type", "application/json")], body=b"{}")
        )
        self.requests: list[SeenRequest] = []
        #: Body bytes written to clients so far, over every connection.
        self.bytes_sent = 0
        self.ca_file: str | None = None
        self._tls: ssl.SSLContext | None = None
        if tls:
            self._folder = tempfile.TemporaryDirectory(prefix="hostile-tls-")
            self.ca_file, key_file = self_signed_certificate(self._folder.name)
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(self.ca_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="hostile-server", daemon=True)

    @property
    def port(self) -> int:
        """Return the port it listens on."""
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:<port>`` (``https`` when serving TLS)."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        """Start accepting connections; return the server."""
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end every open answer and wait for the threads (5 s at most)."""
        self._stopping.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._tls is not None:
            self._folder.cleanup()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        buffered = b""
        try:
            if self._tls is not None:
                connection = self._tls.wrap_socket(connection, server_side=True)
            while not self._stopping.is_set():
                request, buffered = self._read_request(connection, buffered)
                if request is None:
                    return
                self.requests.append(request)
                reply = self.handler(request)
                if not self._send(connection, reply):
                    return
        except OSError:
            return
        finally:
            connection.close()

    @staticmethod
    def _read_request(connection: socket.socket, buffered: bytes) -> tuple[SeenRequest | None, bytes]:
        while b"\r\n\r\n" not in buffered:
            data = connection.recv(65536)
            if not data:
                return None, b""
            buffered += data
        head, buffered = buffered.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(buffered) < length:
            data = connection.recv(65536)
            if not data:
                break
            buffered += data
        body, buffered = buffered[:length], buffered[length:]
        return SeenRequest(method, target, headers, body), buffered

    def _send(self, connection: socket.socket, reply: Reply) -> bool:
        """Send ``reply``; return whether the connection may carry another request."""
        chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
        headers = list(reply.headers)
        names = {name.lower() for name, _ in headers}
        if reply.close_delimited:
            headers.append(("Connection", "close"))
        elif "content-length" not in names and isinstance(reply.body, bytes):
            headers.append(("Content-Length", str(len(reply.body))))
        head = f"HTTP/1.1 {reply.status} {reply.reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        connection.sendall(head.encode("latin-1"))
        for chunk in chunks:
            if self._stopping.is_set():
                return False
            if reply.delay_between_chunks:
                time.sleep(reply.delay_between_chunks)
            connection.sendall(chunk)
            self.bytes_sent += len(chunk)
        return not reply.close_delimited
