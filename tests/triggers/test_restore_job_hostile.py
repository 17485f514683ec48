"""AtlasRestoreJobTrigger against a hostile server, or a connection it must refuse: always one event."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, connection_json
from tests.hooks.test_hostile_token_endpoint import BASIC, echo_page
from tests.hostile_server import Reply, repeat_bytes
from tests.trigger_runs import first_event

JSON = [("Content-Type", "application/json")]


def run_to_event(seconds: float = 3.0) -> dict[str, Any]:
    """Run a trigger on the default connection, polling every 10 ms for ``seconds``; return its event."""
    trigger = AtlasRestoreJobTrigger(
        atlas_conn_id="mongodb_atlas_default",
        group_id=GROUP_ID,
        cluster_name=CLUSTER,
        restore_job_id=JOB_ID,
        poll_interval=0.01,
        timeout_at=time.time() + seconds,
    )
    return asyncio.run(asyncio.wait_for(first_event(trigger), timeout=60))


def test_plain_http_to_a_remote_host_yields_a_failure_event_without_a_request(monkeypatch):
    sent: list[httpx.Request] = []

    async def record(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(request)
        raise httpx.ConnectError("not sent in this test", request=request)

    monkeypatch.setattr(httpx.AsyncClient, "send", record)
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", connection_json(extra={"scheme": "http"}))

    event = run_to_event(1.0)

    assert event["status"] == "failure"
    assert "'http' is not allowed" in event["message"]
    assert sent == []


@pytest.mark.timeout(30)
def test_trickled_answer_fails_each_poll_at_the_attempt_deadline(
    hostile_server, hostile_connection, log_text
):
    hostile_server.handler = lambda request: Reply(
        200, JSON, repeat_bytes(b" ", 10**6), close_delimited=True, delay_between_chunks=0.2
    )
    hostile_connection(hostile_server, connect_timeout=0.5, timeout=1)

    event = run_to_event(2.0)

    assert event["status"] == "timeout"
    assert "no complete answer within 1.5 s" in log_text()


def test_body_that_is_not_the_gzip_it_claims_is_retried_and_the_trigger_still_yields_its_event(
    hostile_server, hostile_connection, log_text
):
    hostile_server.handler = lambda request: Reply(
        200, [*JSON, ("Content-Encoding", "gzip")], b"this is not gzip at all"
    )
    hostile_connection(hostile_server, retry_max_attempts=2)

    event = run_to_event(1.0)

    assert event["status"] == "timeout"
    assert len(hostile_server.requests) >= 2
    assert "could not be decoded" in log_text()


def test_token_endpoint_echoing_the_basic_credential_leaks_it_nowhere(
    hostile_server, hostile_connection, log_text
):
    hostile_server.handler = lambda request: Reply(401, [("Content-Type", "text/html")], echo_page(request))
    hostile_connection(hostile_server, auth_type="service_account")

    event = run_to_event(2.0)

    assert event["status"] == "failure"
    assert "/api/oauth/token" in event["message"]
    output = str(event) + log_text()
    assert BASIC not in output
    assert "private-key-sentinel" not in output
