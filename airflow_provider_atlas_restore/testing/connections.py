"""The Airflow Connection that points at an emulator, as fields, a URI or JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["connection_fields", "connection_uri"]


def connection_fields(
    host: str,
    port: int,
    api_key: tuple[str, str],
    group_id: str | None = None,
    service_account: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Return the fields of a ``mongodb_atlas`` Connection to an emulator at ``host:port``.

    The extras say ``scheme=http`` and ``allow_http_downloads=true``: the emulator serves its
    API and its snapshot links over plain http.

    :param host: the emulator's interface.
    :param port: the emulator's port.
    :param api_key: ``(public_key, private_key)``, used unless ``service_account`` is given.
    :param group_id: default project id stored in ``extra``.
    :param service_account: ``(client_id, secret)``, to authenticate with OAuth instead.
    """
    extra: dict[str, Any] = {"scheme": "http", "allow_http_downloads": True}
    login, password = api_key
    if service_account is not None:
        login, password = service_account
        extra["auth_type"] = "service_account"
    if group_id:
        extra["group_id"] = group_id
    return {
        "conn_type": "mongodb_atlas",
        "host": host,
        "port": port,
        "login": login,
        "password": password,
        "extra": extra,
    }


def connection_uri(fields: dict[str, Any]) -> str:
    """Return :func:`connection_fields` as ``mongodb-atlas://login:password@host:port/?extras``.

    :param fields: what :func:`connection_fields` returned.
    """
    query = urlencode(
        {
            key: str(value).lower() if isinstance(value, bool) else value
            for key, value in fields["extra"].items()
        }
    )
    login, password = quote(fields["login"], safe=""), quote(fields["password"], safe="")
    return f"mongodb-atlas://{login}:{password}@{fields['host']}:{fields['port']}/?{query}"
