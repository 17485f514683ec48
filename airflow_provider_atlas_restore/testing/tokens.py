"""Service accounts: OAuth 2.0 client-credentials tokens and the token endpoint's rate limit."""

from __future__ import annotations

import base64
import binascii
import collections
import hmac
import math
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs

from airflow_provider_atlas_restore.testing.clock import Clock

__all__ = ["ServiceAccounts", "TokenAnswer"]


@dataclass(frozen=True)
class TokenAnswer:
    """What the token endpoint answers: status, JSON body and extra headers."""

    status: int
    body: dict[str, object]
    headers: dict[str, str]


class ServiceAccounts:
    """Service-account secrets, issued bearer tokens and the token endpoint's rate limit.

    :param clock: time source for token expiry and the rate window.
    :param token_ttl: lifetime of a token in seconds (``expires_in``).
    :param rate_limit: token requests allowed per ``rate_window`` seconds (0: unlimited).
    :param rate_window: length of the sliding rate-limit window in seconds.
    """

    def __init__(self, clock: Clock, token_ttl: int = 3600, rate_limit: int = 10, rate_window: float = 60.0):
        self._clock = clock
        self.token_ttl = token_ttl
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self._secrets: dict[str, str] = {}
        self._tokens: dict[str, float] = {}
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def add(self, client_id: str, secret: str) -> None:
        """Register (or replace) a service account.

        :param client_id: e.g. ``mdb_sa_id_<24 hex>``.
        :param secret: e.g. ``mdb_sa_sk_<...>``.
        """
        with self._lock:
            self._secrets[client_id] = secret

    def revoke_tokens(self) -> None:
        """Forget every issued token (they answer 401 from now on)."""
        with self._lock:
            self._tokens.clear()

    def bearer_valid(self, token: str) -> bool:
        """Tell whether a bearer token was issued here and has not expired.

        :param token: the value after ``Bearer``.
        """
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and self._clock.now() < expires

    def _rate_limited(self, now: float) -> int | None:
        """Record one request; return seconds to wait if it is over the limit."""
        with self._lock:
            while self._recent and now - self._recent[0] >= self.rate_window:
                self._recent.popleft()
            if self.rate_limit and len(self._recent) >= self.rate_limit:
                return max(1, math.ceil(self._recent[0] + self.rate_window - now))
            self._recent.append(now)
            return None

    def issue(self, authorization: str | None, content_type: str, body: bytes) -> TokenAnswer:
        """Handle ``POST /api/oauth/token``.

        :param authorization: the ``Authorization`` header (``Basic base64(id:secret)``).
        :param content_type: the request's ``Content-Type``.
        :param body: the form-encoded request body.
        """
        now = self._clock.now()
        wait = self._rate_limited(now)
        if wait is not None:
            detail = f"Rate limit exceeded for api/oauth/token. Please retry after {wait} seconds."
            return TokenAnswer(
                429,
                {
                    "detail": detail,
                    "error": 429,
                    "errorCode": "RATE_LIMITED",
                    "parameters": ["api/oauth/token", wait],
                    "reason": "Too Many Requests",
                },
                {"Retry-After": str(wait)},
            )
        client_id, secret = _basic_credentials(authorization)
        with self._lock:
            known = self._secrets.get(client_id or "")
        if client_id is None or known is None or not hmac.compare_digest(known, secret or ""):
            return TokenAnswer(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed."},
                {"WWW-Authenticate": 'Basic realm="MongoDB Atlas"'},
            )
        form = parse_qs(body.decode("utf-8", "replace")) if "x-www-form-urlencoded" in content_type else {}
        if form.get("grant_type") != ["client_credentials"]:
            return TokenAnswer(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials.",
                },
                {},
            )
        token = secrets.token_urlsafe(48)
        with self._lock:
            for stale in [t for t, exp in self._tokens.items() if exp <= now]:
                del self._tokens[stale]
            self._tokens[token] = now + self.token_ttl
        return TokenAnswer(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl},
            {"Cache-Control": "no-store"},
        )


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else (None, None)
