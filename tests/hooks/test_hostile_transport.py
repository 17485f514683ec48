"""Both API clients (the sync hook and the triggers' async client) against a hostile server on loopback."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import pytest

from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient, load_connection_config
from airflow_provider_atlas_restore.client.retry import is_retryable
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError, AtlasTransportError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID
from tests.hostile_server import Reply, gzip_bomb, repeat_bytes, self_signed_certificate

CLIENTS = ["sync_hook", "async_client"]
#: responses.MAX_ANSWER_BYTES, the documented cap (spelt out so these tests also run on older code).
ANSWER_CAP = 4 << 20
JSON = [("Content-Type", "application/json")]
DIGEST_CHALLENGE = [("WWW-Authenticate", 'Digest realm="x", nonce="abc", qop="auth", algorithm=MD5')]


def call_atlas(client: str) -> dict[str, Any]:
    """Read one restore job through the default connection with ``client``; return it or raise."""
    if client == "sync_hook":
        hook = AtlasHook()
        hook.sleep = lambda seconds: None
        try:
            return hook.get_restore_job(CLUSTER, JOB_ID, GROUP_ID)
        finally:
            hook.close()

    async def no_sleep(seconds: float) -> None:
        return None

    async def read() -> dict[str, Any]:
        config = await load_connection_config("mongodb_atlas_default")
        async with AtlasAsyncClient(config, sleep=no_sleep) as async_client:
            return await async_client.get_restore_job(GROUP_ID, CLUSTER, JOB_ID)

    return asyncio.run(read())


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("status", [302, 307])
def test_api_redirect_is_an_error_naming_the_host_not_followed(
    client, status, hostile_server, second_hostile_server, hostile_connection
):
    second_hostile_server.handler = lambda request: Reply(401, DIGEST_CHALLENGE + JSON, b"{}")
    hostile_server.handler = lambda request: Reply(
        status, [("Location", f"{second_hostile_server.base_url}/stolen-path?sig=query-secret")]
    )
    hostile_connection(hostile_server)

    with pytest.raises(AtlasApiError) as caught:
        call_atlas(client)

    assert caught.value.status == status
    assert f"redirects to {second_hostile_server.base_url}" in str(caught.value)
    assert "stolen-path" not in str(caught.value)
    assert "query-secret" not in str(caught.value)
    assert second_hostile_server.requests == []


@pytest.mark.parametrize("client", CLIENTS)
def test_token_request_redirect_is_an_error_not_followed(
    client, hostile_server, second_hostile_server, hostile_connection
):
    second_hostile_server.handler = lambda request: Reply(
        200, JSON, b'{"access_token": "stolen", "token_type": "Bearer", "expires_in": 3600}'
    )
    hostile_server.handler = lambda request: Reply(
        307, [("Location", f"{second_hostile_server.base_url}/api/oauth/token")]
    )
    hostile_connection(hostile_server, auth_type="service_account")

    with pytest.raises(AtlasApiError) as caught:
        call_atlas(client)

    assert caught.value.status == 307
    assert caught.value.path == "/api/oauth/token"
    assert second_hostile_server.base_url in str(caught.value)
    assert second_hostile_server.requests == []


@pytest.mark.parametrize("client", CLIENTS)
def test_https_api_redirect_to_plain_http_is_an_error_not_followed(
    client, tls_hostile_server, second_hostile_server, hostile_connection
):
    second_hostile_server.handler = lambda request: Reply(401, DIGEST_CHALLENGE + JSON, b"{}")
    tls_hostile_server.handler = lambda request: Reply(
        302, [("Location", f"{second_hostile_server.base_url}/api/atlas/v2/groups")]
    )
    hostile_connection(tls_hostile_server, verify=tls_hostile_server.ca_file)

    with pytest.raises(AtlasApiError, match=f"redirects to {second_hostile_server.base_url};"):
        call_atlas(client)

    assert second_hostile_server.requests == []


@pytest.mark.parametrize("client", CLIENTS)
def test_huge_answer_stops_at_the_size_cap(client, hostile_server, hostile_connection):
    body_size = 600 << 20
    hostile_server.handler = lambda request: Reply(
        200, JSON, repeat_bytes(b"[" * 65536, body_size), close_delimited=True
    )
    hostile_connection(hostile_server)

    with pytest.raises(AtlasResponseError, match="larger than the 4 MiB") as caught:
        call_atlas(client)

    assert "MAX_ANSWER_BYTES" in str(caught.value)
    assert hostile_server.bytes_sent < 8 * ANSWER_CAP  # stopped near the cap (plus socket buffers)


@pytest.mark.parametrize("client", CLIENTS)
def test_gzip_bomb_stops_at_the_size_cap_holding_little_memory(client, hostile_server, hostile_connection):
    bomb = gzip_bomb(600 << 20)
    hostile_server.handler = lambda request: Reply(200, [*JSON, ("Content-Encoding", "gzip")], bomb)
    hostile_connection(hostile_server)

    tracemalloc.start()
    try:
        with pytest.raises(AtlasResponseError, match="larger than the 4 MiB"):
            call_atlas(client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 100 << 20  # decoded bytes held stay bounded, far below the 600 MiB the bomb inflates to


@pytest.mark.timeout(30)
@pytest.mark.parametrize("client", CLIENTS)
def test_trickled_answer_fails_at_the_attempt_deadline(client, hostile_server, hostile_connection):
    hostile_server.handler = lambda request: Reply(
        200, JSON, repeat_bytes(b" ", 10**6), close_delimited=True, delay_between_chunks=0.2
    )
    hostile_connection(hostile_server, connect_timeout=0.5, timeout=1)

    with pytest.raises(AtlasTransportError, match=r"no complete answer within 1\.5 s") as caught:
        call_atlas(client)

    assert is_retryable(caught.value)
    assert len(hostile_server.requests) == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_body_that_is_not_the_gzip_it_claims_is_retried_then_a_connection_error(
    client, hostile_server, hostile_connection
):
    hostile_server.handler = lambda request: Reply(
        200, [*JSON, ("Content-Encoding", "gzip")], b"this is not gzip at all"
    )
    hostile_connection(hostile_server, retry_max_attempts=2)

    with pytest.raises(AtlasTransportError, match="could not be decoded") as caught:
        call_atlas(client)

    assert is_retryable(caught.value)
    assert len(hostile_server.requests) == 2


@pytest.fixture
def other_ca_bundle(tmp_path) -> str:
    """Return a CA bundle that does not hold the TLS hostile server's certificate."""
    return self_signed_certificate(str(tmp_path))[0]


@pytest.mark.parametrize("verify", ["ca_file", False])
def test_connection_verify_wins_over_the_requests_ca_bundle_variables(
    verify, tls_hostile_server, hostile_connection, other_ca_bundle, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", other_ca_bundle)
    tls_hostile_server.handler = lambda request: Reply(200, JSON, b'{"id": "x"}')
    hostile_connection(tls_hostile_server, verify=tls_hostile_server.ca_file if verify else False)

    assert call_atlas("sync_hook") == {"id": "x"}


def test_huge_digest_challenge_body_stops_at_the_size_cap(hostile_server, hostile_connection):
    body_size = 600 << 20
    hostile_server.handler = lambda request: Reply(
        401, DIGEST_CHALLENGE + JSON, repeat_bytes(b" " * 65536, body_size), close_delimited=True
    )
    hostile_connection(hostile_server)

    with pytest.raises(AtlasResponseError, match="larger than the 4 MiB"):
        call_atlas("sync_hook")

    assert hostile_server.bytes_sent < 8 * ANSWER_CAP
    assert len(hostile_server.requests) == 1  # the challenge was not answered
