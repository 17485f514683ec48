"""One ``httpx.AsyncClient`` per event loop and connection, lent to every AtlasAsyncClient of the process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import ssl
import threading
import weakref
from typing import TYPE_CHECKING, NamedTuple

import httpx

from airflow_provider_atlas_restore.api.responses import ACCEPT_ENCODING
from airflow_provider_atlas_restore.client.tokens import DIGEST
from airflow_provider_atlas_restore.client.transport import USER_AGENT

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig

log = logging.getLogger(__name__)

#: Connections one shared client keeps open at most (all of them kept alive between polls).
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


@functools.lru_cache(maxsize=8)
def tls_context(verify: bool | str) -> ssl.SSLContext:
    """
    Return one TLS context per ``verify`` setting, shared by every client of the process.

    httpx otherwise builds a context and loads the whole CA bundle for each client: about 20 ms
    of event-loop time and 0.8 MiB per trigger, which a triggerer running a thousand pays a
    thousand times.

    :param verify: ``True``, ``False`` or the path of a CA bundle.
    """
    return httpx.create_ssl_context(verify=verify)


class _Settings(NamedTuple):
    """What makes two connections interchangeable; the secret only as a hash."""

    base_url: str
    login: str
    password_sha256: str
    auth_type: str
    verify: bool | str
    proxy: str | None
    read_timeout: float
    connect_timeout: float

    @classmethod
    def of(cls, config: AtlasConnectionConfig) -> _Settings:
        """
        Return the settings of ``config`` that its client depends on.

        :param config: the connection's settings.
        """
        return cls(
            config.base_url,
            config.login,
            hashlib.sha256(config.password.encode()).hexdigest(),
            config.auth_type,
            config.verify,
            config.proxies.get("https") or config.proxies.get("all"),
            config.read_timeout,
            config.connect_timeout,
        )


#: A running loop's id (checked against the client's weak reference to its loop) and the settings.
_Key = tuple[int, _Settings]


class SharedAsyncClient:
    """
    One ``httpx.AsyncClient`` lent to every user of one connection in one event loop.

    Until a request through it has succeeded, requests with Digest go one at a time, so that
    the first one's 401 challenge gives the nonce that authorises all the others.

    :param config: the connection's settings.
    :param loop: the event loop the client belongs to (held weakly).
    :param key: the client's key in its pool.
    """

    def __init__(self, config: AtlasConnectionConfig, loop: asyncio.AbstractEventLoop, key: _Key) -> None:
        digest = config.auth_type == DIGEST
        self.client = httpx.AsyncClient(
            auth=httpx.DigestAuth(config.login, config.password) if digest else None,
            verify=tls_context(config.verify),
            proxy=key[1].proxy,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            limits=POOL_LIMITS,
            # Only the encodings that responses.AnswerDecoder inflates, a bounded step at a time.
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        )
        self.loop = weakref.ref(loop)
        self.key = key
        self.users = 0
        self._authorised = not digest  # a bearer token needs no challenge to share
        self._first_request = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, url: str, *, headers: dict[str, str], content: bytes | None
    ) -> AsyncIterator[httpx.Response]:
        """
        Send one request and yield its answer with the body not yet read; before the first success, one caller at a time.

        Redirects are never followed (httpx's default, kept on purpose).

        :param method: the HTTP method.
        :param url: the full URL.
        :param headers: the request's own headers.
        :param content: the body, if any.
        """
        if not self._authorised:
            async with self._first_request:
                if not self._authorised:
                    async with self.client.stream(
                        method, url, headers=headers, content=content, follow_redirects=False
                    ) as response:
                        self._authorised = response.status_code < 400
                        yield response
                    return
        async with self.client.stream(
            method, url, headers=headers, content=content, follow_redirects=False
        ) as response:
            yield response


class AsyncClientPool:
    """Lend one :class:`SharedAsyncClient` per (running event loop, connection settings); the last user closes it."""

    def __init__(self) -> None:
        self._clients: dict[_Key, SharedAsyncClient] = {}
        self._lock = threading.Lock()  # event loops in several threads may share the pool

    def __len__(self) -> int:
        """Return how many shared clients are open, in every event loop."""
        with self._lock:
            return len(self._clients)

    def clients(self) -> list[httpx.AsyncClient]:
        """Return the httpx clients currently lent out, in every event loop."""
        with self._lock:
            return [shared.client for shared in self._clients.values()]

    def borrow(self, config: AtlasConnectionConfig) -> SharedAsyncClient:
        """
        Return the running loop's shared client for ``config``, opening it if there is none.

        :param config: the connection's settings.
        """
        loop = asyncio.get_running_loop()
        key = (id(loop), _Settings.of(config))
        with self._lock:
            shared = self._clients.get(key)
            if shared is None or shared.loop() is not loop:
                self._forget_finished_loops()
                shared = self._clients[key] = SharedAsyncClient(config, loop, key)
                log.debug("Opened a shared HTTP client for %s", config.base_url)
            shared.users += 1
            return shared

    async def give_back(self, shared: SharedAsyncClient) -> None:
        """
        Return a borrowed client; the last user closes it.

        :param shared: what :meth:`borrow` returned.
        """
        with self._lock:
            shared.users -= 1
            if shared.users > 0:
                return
            if self._clients.get(shared.key) is shared:
                del self._clients[shared.key]
        await shared.client.aclose()

    def _forget_finished_loops(self) -> None:
        """Drop clients whose loop is gone or closed; their ids may be reused by a new loop."""
        for key, shared in list(self._clients.items()):
            loop = shared.loop()
            if loop is None or loop.is_closed():
                del self._clients[key]
                log.debug("Forgot a shared HTTP client of a finished event loop")


#: The process-wide pool that every :class:`~.atlas_async.AtlasAsyncClient` borrows from.
async_client_pool = AsyncClientPool()
