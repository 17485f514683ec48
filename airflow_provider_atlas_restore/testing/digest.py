"""HTTP Digest authentication (RFC 7616 subset: MD5, ``qop="auth"``) as Atlas API keys use it."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.request import parse_http_list, parse_keqv_list

from airflow_provider_atlas_restore.testing.clock import Clock

__all__ = [
    "REALM",
    "DigestAuthenticator",
    "DigestOutcome",
    "authorization_header",
    "digest_response",
    "parse_auth_params",
]

REALM = "MMS Public API"
_KEY_RE = re.compile(r"[a-z][\w-]*")
_EMPTY = '""'  # parse_keqv_list needs a value: an empty one, quoted
_MAX_NONCES = 10_000


class DigestOutcome(enum.Enum):
    """Result of checking one ``Authorization: Digest`` header."""

    OK = "ok"
    STALE = "stale"  # right credentials, but the nonce is unknown, expired or replayed
    INVALID = "invalid"  # wrong user, password or malformed header


@dataclass
class _Nonce:
    issued: float
    seen: set[int] = field(default_factory=set)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_response(
    username: str, password: str, method: str, uri: str, nonce: str, nc: str, cnonce: str
) -> str:
    """
    Return the ``response`` value of a Digest ``Authorization`` (MD5, ``qop="auth"``, realm :data:`REALM`).

    :param username: the user (an API public key).
    :param password: the password (the private key).
    :param method: the HTTP method.
    :param uri: the request target as sent (path and query).
    :param nonce: the server's nonce.
    :param nc: the nonce count, as 8 hex digits.
    :param cnonce: the client's nonce.
    """
    ha1 = _md5(f"{username}:{REALM}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


def authorization_header(
    username: str, password: str, method: str, uri: str, nonce: str, nc: int, cnonce: str = "0a4f113b5c7d9e21"
) -> str:
    """
    Return a whole ``Authorization: Digest`` value, for raw HTTP clients of the emulator.

    :param username: the user (an API public key).
    :param password: the password (the private key).
    :param method: the HTTP method.
    :param uri: the request target as sent (path and query).
    :param nonce: the nonce of the server's challenge.
    :param nc: the nonce count: 1 for the first request with ``nonce``, then 2, 3...
    :param cnonce: the client's nonce.
    """
    count = f"{nc:08x}"
    response = digest_response(username, password, method, uri, nonce, count, cnonce)
    return (
        f'Digest username="{username}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm=MD5, qop=auth, nc={count}, cnonce="{cnonce}"'
    )


def parse_auth_params(value: str) -> dict[str, str]:
    """Parse ``key=value, key="quoted"`` pairs of a Digest header (scheme word excluded).

    :func:`urllib.request.parse_http_list` splits at commas outside quotes (and drops the
    backslash of an escape); :func:`~urllib.request.parse_keqv_list` unquotes. Keys are
    lower-cased; an element without ``=`` is ignored.

    :param value: header value after the scheme name.
    """
    pairs = []
    for element in parse_http_list(value):
        key, equals, raw = element.partition("=")
        key = key.strip().lower()
        if equals and _KEY_RE.fullmatch(key):
            pairs.append(f"{key}={raw.strip() or _EMPTY}")
    return parse_keqv_list(pairs)


class DigestAuthenticator:
    """Issue nonces and verify Digest responses; thread-safe.

    A nonce stays valid for ``nonce_ttl`` seconds of ``clock`` time and accepts any nonce
    count (``nc``) not used before with it, so a client that keeps its nonce can send every
    later request pre-authorised.

    :param passwords: maps a user name (public key) to its password (private key), or None.
    :param clock: time source for nonce expiry.
    :param nonce_ttl: seconds a nonce lives.
    """

    def __init__(self, passwords: Callable[[str], str | None], clock: Clock, nonce_ttl: float) -> None:
        self._passwords = passwords
        self._clock = clock
        self.nonce_ttl = nonce_ttl
        self._nonces: dict[str, _Nonce] = {}
        self._lock = threading.Lock()

    def challenge(self, stale: bool = False) -> str:
        """Create a fresh nonce and return the ``WWW-Authenticate`` header value.

        :param stale: tell the client its credentials were right but the nonce is not.
        """
        nonce = secrets.token_urlsafe(24)
        now = self._clock.now()
        with self._lock:
            if len(self._nonces) >= _MAX_NONCES:
                self._purge(now)
            self._nonces[nonce] = _Nonce(issued=now)
        return (
            f'Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", '
            f"stale={'true' if stale else 'false'}"
        )

    def _purge(self, now: float) -> None:
        for key in [k for k, v in self._nonces.items() if now - v.issued > self.nonce_ttl]:
            del self._nonces[key]
        while len(self._nonces) >= _MAX_NONCES:
            del self._nonces[next(iter(self._nonces))]

    def verify(self, header_params: str, method: str, request_uri: str) -> tuple[DigestOutcome, str]:
        """Check a Digest ``Authorization`` header.

        :param header_params: the header value after ``Digest``.
        :param method: HTTP method of the request.
        :param request_uri: request target exactly as sent (path and query).
        :returns: the outcome and the user name given (may be empty).
        """
        p = parse_auth_params(header_params)
        username = p.get("username", "")
        password = self._passwords(username) if username else None
        needed = ("realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if (
            password is None
            or any(k not in p for k in needed)
            or p["realm"] != REALM
            or p["qop"] != "auth"
            or p.get("algorithm", "MD5").upper() != "MD5"
            or p["uri"] != request_uri
            or not re.fullmatch(r"[0-9a-fA-F]{8}", p["nc"])
        ):
            return DigestOutcome.INVALID, username
        expected = digest_response(username, password, method, p["uri"], p["nonce"], p["nc"], p["cnonce"])
        if not hmac.compare_digest(expected, p["response"].lower()):
            return DigestOutcome.INVALID, username
        count = int(p["nc"], 16)
        now = self._clock.now()
        with self._lock:
            state = self._nonces.get(p["nonce"])
            if state is None or now - state.issued >= self.nonce_ttl or count in state.seen or count < 1:
                return DigestOutcome.STALE, username
            state.seen.add(count)
        return DigestOutcome.OK, username
