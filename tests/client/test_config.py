"""Reading a mongodb_atlas connection: fields, extras in every form, and refusals of bad values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.exceptions import AtlasInputError


def connection(extra: dict[str, Any] | None = None, **fields: Any) -> SimpleNamespace:
    values = {"conn_id": "c", "host": None, "port": None, "schema": None, "login": "pub", "password": "key"}
    return SimpleNamespace(**{**values, **fields}, extra_dejson=extra or {})


def test_defaults():
    config = AtlasConnectionConfig.from_connection(connection())

    assert config.base_url == "https://cloud.mongodb.com"
    assert (config.api_version, config.auth_type, config.group_id) == ("v2", "digest", None)
    assert (config.connect_timeout, config.read_timeout, config.verify) == (10.0, 60.0, True)
    assert config.retry == RetryPolicy()


def test_airflow_2_prefixed_extras_are_read():
    config = AtlasConnectionConfig.from_connection(
        connection(
            {
                "extra__mongodb_atlas__group_id": "6a793f6b2c88faeba59bae37",
                "extra__mongodb_atlas__api_version": "v1.0",
            }
        )
    )

    assert (config.group_id, config.api_version) == ("6a793f6b2c88faeba59bae37", "v1.0")


@pytest.mark.parametrize(
    ("fields", "base_url"),
    [
        ({"host": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
        ({"host": "127.0.0.1", "port": 81, "schema": "http"}, "http://127.0.0.1:81"),
        ({"host": "::1", "port": 81, "extra": {"scheme": "http"}}, "http://[::1]:81"),
        ({"host": "atlas.internal", "extra": {"scheme": "HTTPS"}}, "https://atlas.internal"),
    ],
)
def test_host_port_and_scheme_make_the_base_url(fields, base_url):
    assert AtlasConnectionConfig.from_connection(connection(**fields)).base_url == base_url


def test_proxies_verify_bundle_and_connect_timeout_are_read():
    config = AtlasConnectionConfig.from_connection(
        connection(
            {"proxies": {"https": "http://proxy:3128"}, "verify": "/etc/ca.pem", "connect_timeout": "3"}
        )
    )

    assert config.proxies == {"https": "http://proxy:3128"}
    assert config.verify == "/etc/ca.pem"
    assert config.connect_timeout == 3.0


@pytest.mark.parametrize(
    "fields",
    [
        {"host": "http://atlas.internal"},
        {"host": "10.1.2.3", "schema": "http"},
        {"host": "[fe80::1]", "extra": {"scheme": "http"}},
    ],
)
def test_plain_http_to_a_remote_host_is_refused_saying_what_is_allowed(fields):
    extra = fields.pop("extra", {})
    with pytest.raises(AtlasInputError, match=r"'http' is not allowed.*localhost, 127\.0\.0\.0/8 or ::1"):
        AtlasConnectionConfig.from_connection(connection(extra, **fields))


def test_attempt_deadline_is_the_connect_plus_the_read_timeout():
    config = AtlasConnectionConfig.from_connection(connection({"connect_timeout": 2, "timeout": 5}))

    assert config.attempt_deadline == 7.0


@pytest.mark.parametrize(
    ("extra", "fields", "message"),
    [
        ({"api_version": "v3"}, {}, "api_version='v3'"),
        ({"auth_type": "basic"}, {}, "auth_type='basic'"),
        ({"group_id": "abc"}, {}, "extra group_id='abc'"),
        ({"timeout": "soon"}, {}, "timeout='soon'"),
        ({"timeout": 0}, {}, "timeout=0"),
        ({"verify": 3}, {}, "verify=3"),
        ({"proxies": "http://proxy"}, {}, "proxies="),
        ({"retry_max_attempts": 0}, {}, "retry_max_attempts=0"),
        ({"retry_initial_wait": -1}, {}, "retry_initial_wait=-1"),
        ({}, {"host": "ftp://x"}, "scheme 'ftp'"),
        ({}, {"host": "x/y"}, "host 'x/y'"),
        ({}, {"login": None}, "no credentials"),
        ({}, {"password": ""}, "no credentials"),
    ],
)
def test_bad_connection_values_are_refused_with_the_rule(extra, fields, message):
    with pytest.raises(AtlasInputError, match=message.replace("(", r"\(")):
        AtlasConnectionConfig.from_connection(connection(extra, **fields))
