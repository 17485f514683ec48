"""The one send path: the bearer flow both drivers run, one User-Agent, the hook's downloader, one retry policy."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_atlas_restore import __version__
from airflow_provider_atlas_restore.api.endpoints import AtlasRequests
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.client.tokens import TokenCache
from airflow_provider_atlas_restore.client.transport import (
    NEED_TOKEN,
    USER_AGENT,
    Answer,
    arun_flow,
    call_flow,
    run_flow,
)
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from tests.conftest import CLUSTER, GROUP_ID

REQUEST = AtlasRequests().list_restore_jobs_request(GROUP_ID, CLUSTER)


class _Tokens(TokenCache):
    def __init__(self) -> None:
        super().__init__()
        self.invalidated: list[str] = []

    def invalidate(self, value: str) -> None:
        self.invalidated.append(value)


def test_bearer_flow_renews_a_refused_token_once_and_parses_the_second_answer() -> None:
    tokens = _Tokens()
    flow = call_flow(REQUEST, tokens, bearer=True)
    assert next(flow) is NEED_TOKEN
    first = flow.send("old-token")
    assert first["Authorization"] == "Bearer old-token"
    assert flow.send(Answer(401, {}, b"")) is NEED_TOKEN
    assert tokens.invalidated == ["old-token"]
    assert flow.send("new-token")["Authorization"] == "Bearer new-token"
    with pytest.raises(StopIteration) as done:
        flow.send(Answer(200, {}, b'{"results": []}'))
    assert done.value.value == {"results": []}


def test_sync_and_async_drivers_send_the_same_attempts_and_raise_the_same_error() -> None:
    sent: dict[str, list[dict[str, str]]] = {"sync": [], "async": []}

    def send(headers: dict[str, str]) -> Answer:
        sent["sync"].append(headers)
        return Answer(401, {}, b"")

    async def asend(headers: dict[str, str]) -> Answer:
        sent["async"].append(headers)
        return Answer(401, {}, b"")

    async def token() -> str:
        return "t"

    with pytest.raises(AtlasApiError) as sync_error:
        run_flow(call_flow(REQUEST, _Tokens(), bearer=True), lambda: "t", send)
    with pytest.raises(AtlasApiError) as async_error:
        asyncio.run(arun_flow(call_flow(REQUEST, _Tokens(), bearer=True), token, asend))
    assert sent["sync"] == sent["async"]
    assert len(sent["sync"]) == 2
    assert (sync_error.value.status, str(sync_error.value)) == (
        async_error.value.status,
        str(async_error.value),
    )


def test_digest_flow_sends_no_bearer_and_asks_for_no_token() -> None:
    flow = call_flow(REQUEST, _Tokens(), bearer=False)
    headers = next(flow)
    assert headers != NEED_TOKEN
    assert "Authorization" not in headers


def test_async_client_sends_the_versioned_user_agent() -> None:
    from airflow_provider_atlas_restore.client.async_pool import AsyncClientPool

    config = AtlasConnectionConfig(conn_id="x", base_url="https://127.0.0.1:1", login="a", password="b")

    async def user_agent() -> str:
        pool = AsyncClientPool()
        shared = pool.borrow(config)
        try:
            return str(shared.client.headers["User-Agent"])
        finally:
            await pool.give_back(shared)

    assert asyncio.run(user_agent()) == USER_AGENT == f"airflow-provider-atlas-restore/{__version__}"


def test_hook_builds_the_downloader_with_the_connection_settings(
    monkeypatch: pytest.MonkeyPatch, atlas_connection: str
) -> None:
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    hook = AtlasHook(atlas_connection, timeout=7)
    downloader = hook.snapshot_downloader(chunk_size=4096)
    try:
        assert (downloader.read_timeout, downloader.connect_timeout) == (7.0, hook.config.connect_timeout)
        assert downloader.session.verify == hook.config.verify
        assert downloader.session.headers["User-Agent"] == USER_AGENT
        assert downloader.session.headers["Accept-Encoding"] == "identity"
        assert (downloader.chunk_size, downloader.allow_http) == (4096, False)
        assert "Authorization" not in downloader.session.headers
    finally:
        downloader.session.close()


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, None, 2.0), (2, None, 4.0), (5, None, 10.0), (1, 30.0, 30.0), (3, 1.0, 8.0)],
)
def test_download_wait_doubles_without_jitter_caps_and_honours_retry_after(
    attempt: int, retry_after: float | None, expected: float
) -> None:
    policy = RetryPolicy(max_attempts=6, initial_wait=2.0, max_wait=10.0, max_total_wait=25.0)
    assert policy.download_wait(attempt, retry_after) == expected


def test_retry_policy_is_spent_by_attempts_or_by_the_wait_budget() -> None:
    policy = RetryPolicy(max_attempts=3, initial_wait=1.0, max_wait=10.0, max_total_wait=5.0)
    assert (policy.spent(2, 0.0, 2.0), policy.spent(3, 0.0, 1.0), policy.spent(2, 4.0, 2.0)) == (
        False,
        True,
        True,
    )


def test_atlas_base_hook_is_a_deprecated_alias_of_atlas_hook() -> None:
    from airflow_provider_atlas_restore.hooks import base
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    with pytest.warns(DeprecationWarning, match="AtlasBaseHook is deprecated"):
        alias: Any = base.AtlasBaseHook
    assert alias is AtlasHook


def test_listing_path_comes_without_building_a_request() -> None:
    api = AtlasRequests("v1.0")
    assert api.restore_jobs_path(GROUP_ID, CLUSTER) == api.list_restore_jobs_request(GROUP_ID, CLUSTER).path


def test_snapshot_listing_path_comes_without_building_a_request() -> None:
    api = AtlasRequests()
    for sharded in (False, True):
        built = api.list_snapshots_request(GROUP_ID, CLUSTER, sharded=sharded).path
        assert api.snapshots_path(GROUP_ID, CLUSTER, sharded=sharded) == built


def test_former_request_builder_name_warns_and_builds_the_same_request() -> None:
    from airflow_provider_atlas_restore.api.endpoints import AtlasApi

    with pytest.warns(DeprecationWarning, match="AtlasApi is deprecated"):
        former: Any = AtlasApi("v1.0")
    assert former.get_restore_job(GROUP_ID, CLUSTER, "a" * 24) == AtlasRequests(
        "v1.0"
    ).get_restore_job_request(GROUP_ID, CLUSTER, "a" * 24)
