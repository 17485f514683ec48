"""
Service-account bearer tokens: fetched once, shared, and renewed shortly before they expire.

Atlas rate-limits its token endpoint (about 10 requests a minute), so a token is cached per
process and per account: every hook and every trigger in a worker or triggerer that uses the
same service account shares one token, and asks for a new one only when it is about to expire
or the server has refused it.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable

from airflow.providers.common.compat.sdk import mask_secret

from airflow_provider_atlas_restore.api.endpoints import ApiRequest, oauth_token_request
from airflow_provider_atlas_restore.api.responses import AccessToken

DIGEST = "digest"
SERVICE_ACCOUNT = "service_account"
AUTH_TYPES = (DIGEST, SERVICE_ACCOUNT)
#: A token is renewed this many seconds before it expires, so no call goes out with a dying one.
RENEW_BEFORE_EXPIRY = 60.0


def masked_token_request(client_id: str, client_secret: str) -> ApiRequest:
    """
    Build the token request, after registering its secrets with Airflow's secret masker.

    The secret, its ``Basic`` header value and the base64 credential in it are each masked, so
    an error page that echoes the request's headers shows none of them in a log.

    :param client_id: the service account's client id.
    :param client_secret: its secret.
    """
    request = oauth_token_request(client_id, client_secret)
    authorization = request.headers["Authorization"]
    for secret in (client_secret, authorization, authorization.partition(" ")[2]):
        mask_secret(secret)
    return request


class TokenCache:
    """
    One service account's current bearer token, safe to share between threads and coroutines.

    :param clock: seconds on a monotonic clock (injected by tests).
    :param renew_before: renew this many seconds before the token expires.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, renew_before: float = RENEW_BEFORE_EXPIRY
    ):
        self.clock = clock
        self.renew_before = renew_before
        self.tokens_fetched = 0
        self._value: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._async_locks: dict[int, asyncio.Lock] = {}

    def current(self) -> str | None:
        """Return the cached token while it is not due for renewal, else ``None``."""
        if self._value is not None and self.clock() < self._renew_at:
            return self._value
        return None

    def store(self, token: AccessToken, fetched_at: float) -> str:
        """
        Keep ``token``, register it with the secret masker and return its value.

        :param token: the token the endpoint issued.
        :param fetched_at: when it was asked for, on :attr:`clock`.
        """
        mask_secret(token.value)
        self._value = token.value
        # A token shorter-lived than the margin is still used once, rather than never.
        self._renew_at = fetched_at + max(token.expires_in - self.renew_before, token.expires_in / 2)
        self.tokens_fetched += 1
        return token.value

    def invalidate(self, value: str) -> None:
        """
        Forget ``value`` after the server refused it, unless it was already replaced.

        :param value: the token that got a 401.
        """
        if self._value == value:
            self._value = None

    def get(self, fetch: Callable[[], AccessToken]) -> str:
        """
        Return a valid token, calling ``fetch`` (one caller at a time) only when there is none.

        :param fetch: asks the token endpoint for a new token.
        """
        with self._lock:
            cached = self.current()
            if cached is not None:
                return cached
            fetched_at = self.clock()
            return self.store(fetch(), fetched_at)

    async def aget(self, fetch: Callable[[], Awaitable[AccessToken]]) -> str:
        """
        Return a valid token without blocking the event loop; concurrent callers share one fetch.

        :param fetch: asks the token endpoint for a new token.
        """
        cached = self.current()
        if cached is not None:
            return cached
        loop_key = id(asyncio.get_running_loop())
        lock = self._async_locks.setdefault(loop_key, asyncio.Lock())
        async with lock:
            cached = self.current()
            if cached is not None:
                return cached
            fetched_at = self.clock()
            return self.store(await fetch(), fetched_at)


_CACHES: dict[tuple[str, str, str], TokenCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_token_cache(base_url: str, client_id: str, client_secret: str) -> TokenCache:
    """
    Return the process-wide token cache of one service account on one Atlas host.

    :param base_url: the Atlas base URL.
    :param client_id: the service account's client id.
    :param client_secret: its secret (only a hash of it is kept as part of the key).
    """
    key = (base_url, client_id, hashlib.sha256(client_secret.encode()).hexdigest())
    with _CACHES_LOCK:
        return _CACHES.setdefault(key, TokenCache())


def forget_tokens() -> None:
    """Drop every cached token of this process (for tests, or after rotating a secret)."""
    with _CACHES_LOCK:
        _CACHES.clear()
