"""Settings of a ``mongodb_atlas`` Airflow connection, read and checked once for hook and trigger."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_provider_atlas_restore.api.validation import API_VERSIONS, validate_choice, validate_object_id
from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.client.tokens import AUTH_TYPES, SERVICE_ACCOUNT
from airflow_provider_atlas_restore.exceptions import AtlasInputError

DEFAULT_HOST = "cloud.mongodb.com"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConnectionLike(Protocol):
    """The parts of an Airflow ``Connection`` this module reads."""

    @property
    def conn_id(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def schema(self) -> str | None: ...
    @property
    def login(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def _extras(raw_extras: Mapping[str, Any], conn_type: str) -> dict[str, Any]:
    """Return the extras, accepting the ``extra__<type>__<name>`` keys Airflow 2 forms write."""
    extras: dict[str, Any] = {}
    prefix = f"extra__{conn_type}__"
    for key, value in raw_extras.items():
        name = key[len(prefix) :] if key.startswith(prefix) else key
        if value not in (None, ""):
            extras[name] = value
    return extras


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise AtlasInputError(f"Connection extra {name}={value!r} is not allowed: use true or false.")


def _seconds(value: Any, name: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if isinstance(value, bool) or seconds <= 0:
        raise AtlasInputError(
            f"Connection extra {name}={value!r} is not allowed: use a number of seconds > 0."
        )
    return seconds


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AtlasConnectionConfig:
    """
    Everything a client needs to call Atlas, taken from one Airflow connection.

    :param conn_id: the connection id, for messages.
    :param base_url: scheme, host and port, such as ``https://cloud.mongodb.com``.
    :param login: API public key, or a service account's client id.
    :param password: API private key, or the client secret (never shown in ``repr``).
    :param api_version: ``v2`` or ``v1.0``.
    :param group_id: the default project id, or ``None``.
    :param auth_type: ``digest`` for an API key pair, ``service_account`` for OAuth client credentials.
    :param connect_timeout: seconds to wait for a TCP connection.
    :param read_timeout: seconds to wait for an answer.
    :param verify: TLS verification: a flag, or the path of a CA bundle.
    :param proxies: proxy URLs by scheme.
    :param retry: the retry policy.
    :param allow_http_downloads: accept plain-http snapshot download links (a local emulator only).
    """

    conn_id: str
    base_url: str
    login: str
    password: str = field(repr=False)
    api_version: str = "v2"
    group_id: str | None = None
    auth_type: str = "digest"
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    verify: bool | str = True
    proxies: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    allow_http_downloads: bool = False

    @property
    def attempt_deadline(self) -> float:
        """
        Return the seconds one attempt of an API call may take in all: connect plus read timeout.

        The read timeout bounds each read; this bounds the whole attempt (connecting, sending and
        reading the complete answer), so a server that trickles bytes cannot hold a call open.
        """
        return self.connect_timeout + self.read_timeout

    @classmethod
    def from_connection(
        cls,
        connection: ConnectionLike,
        conn_type: str = "mongodb_atlas",
        *,
        extras: Mapping[str, Any] | None = None,
    ) -> AtlasConnectionConfig:
        """
        Read and check a connection's fields and extras.

        :param connection: an Airflow ``Connection``.
        :param conn_type: the connection type, for the Airflow 2 ``extra__`` key prefix.
        :param extras: the connection's extras when already read (asynchronously, in a trigger);
            by default ``connection.extra_dejson``.
        """
        conn_id = connection.conn_id or "(unnamed)"
        extras = _extras(connection.extra_dejson if extras is None else extras, conn_type)
        auth_type = validate_choice(extras.get("auth_type", "digest"), "auth_type", AUTH_TYPES)
        if not connection.login or not connection.password:
            wanted = (
                "login to the service account's client id and password to its secret"
                if auth_type == SERVICE_ACCOUNT
                else "login to the Atlas API public key and password to the private key"
            )
            raise AtlasInputError(f"Connection {conn_id!r} has no credentials: set {wanted}.")
        group_id = extras.get("group_id")
        if group_id is not None:
            validate_object_id(group_id, f"connection {conn_id!r} extra group_id")
        timeout = extras.get("timeout", extras.get("read_timeout"))
        proxies = extras.get("proxies") or {}
        if not isinstance(proxies, Mapping):
            raise AtlasInputError(
                f"Connection extra proxies={proxies!r} is not allowed: use an object such as "
                '{"https": "http://proxy:3128"}.'
            )
        verify: bool | str = extras.get("verify", True)
        if isinstance(verify, str) and verify.strip().lower() in _TRUE | _FALSE:
            verify = _boolean(verify, "verify")
        elif not isinstance(verify, (bool, str)):
            raise AtlasInputError(
                f"Connection extra verify={verify!r} is not allowed: use true, false or the path of a CA bundle."
            )
        return cls(
            conn_id=conn_id,
            base_url=cls._base_url(connection, extras),
            login=connection.login,
            password=connection.password,
            api_version=validate_choice(extras.get("api_version", "v2"), "api_version", API_VERSIONS),
            group_id=group_id,
            auth_type=auth_type,
            connect_timeout=_seconds(
                extras.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT), "connect_timeout"
            ),
            read_timeout=_seconds(timeout if timeout is not None else DEFAULT_READ_TIMEOUT, "timeout"),
            verify=verify,
            proxies={str(key): str(value) for key, value in proxies.items()},
            retry=RetryPolicy.from_settings(extras),
            allow_http_downloads=_boolean(extras.get("allow_http_downloads", False), "allow_http_downloads"),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> AtlasConnectionConfig:
        """
        Return these settings with a hook's arguments applied; ``None`` values are ignored.

        :param overrides: ``api_version``, ``timeout`` (the read timeout) and ``retry_*`` values.
        """
        given = {key: value for key, value in overrides.items() if value is not None}
        changes: dict[str, Any] = {}
        if "api_version" in given:
            changes["api_version"] = validate_choice(given["api_version"], "api_version", API_VERSIONS)
        if "timeout" in given:
            timeout = given["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise AtlasInputError(f"timeout={timeout!r} is not allowed: use a number of seconds > 0.")
            changes["read_timeout"] = float(timeout)
        if any(key.startswith("retry_") for key in given):
            retry_settings = {
                key: getattr(self.retry, field_name) for key, field_name in RetryPolicy.EXTRA_KEYS.items()
            }
            retry_settings.update({k: v for k, v in given.items() if k.startswith("retry_")})
            changes["retry"] = RetryPolicy.from_settings(retry_settings)
        return replace(self, **changes) if changes else self

    @staticmethod
    def _base_url(connection: ConnectionLike, extras: Mapping[str, Any]) -> str:
        host = (connection.host or DEFAULT_HOST).strip()
        scheme = str(extras.get("scheme") or connection.schema or "https").lower()
        port = connection.port
        if "://" in host:
            parts = urlsplit(host)
            scheme, host = parts.scheme.lower(), parts.hostname or ""
            port = port or parts.port
        if scheme not in ("http", "https"):
            raise AtlasInputError(
                f"Connection scheme {scheme!r} is not allowed: use https (or http to localhost for an emulator)."
            )
        if not host or "/" in host or "@" in host:
            raise AtlasInputError(f"Connection host {host!r} is not a host name or address.")
        if scheme == "http" and not _is_loopback(host):
            raise AtlasInputError(
                f"Connection scheme 'http' is not allowed for host {host!r}: it would send the "
                "credentials in clear. Use https; plain http is allowed only to this machine "
                "(localhost, 127.0.0.0/8 or ::1), such as a local emulator."
            )
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
