"""Service-account (OAuth client credentials) authentication, sync and async, against the emulator."""

from __future__ import annotations

import json
import os

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from tests.trigger_runs import make_trigger, run_triggers


def token_requests(emulator, **filters) -> int:
    return emulator.stats.count(route="oauth_token", **filters)


def test_ten_calls_cost_one_token_request(atlas_emulator, service_account_connection):
    hook = AtlasHook()

    for _ in range(10):
        hook.get_project()

    assert token_requests(atlas_emulator) == 1
    assert atlas_emulator.stats.count(route="get_project", status=200) == 10
    assert atlas_emulator.stats.challenges == 0  # no Digest round trips with a bearer token


def test_hooks_in_one_process_share_the_token(atlas_emulator, service_account_connection):
    for _ in range(3):
        AtlasHook().get_project()

    assert token_requests(atlas_emulator) == 1


def test_token_is_renewed_shortly_before_it_expires(atlas_emulator, service_account_connection):
    hook = AtlasHook()
    now = [1000.0]
    hook.tokens.clock = lambda: now[0]
    hook.get_project()

    now[0] += 3600 - 61  # one second before the renewal margin: the token is kept
    hook.get_project()
    assert token_requests(atlas_emulator) == 1

    now[0] += 2  # inside the last minute of its life: renewed before the call
    hook.get_project()
    assert token_requests(atlas_emulator) == 2
    assert atlas_emulator.stats.count(route="get_project", status=401) == 0


def test_token_expired_by_the_server_is_renewed_once_and_the_call_retried(
    atlas_emulator, service_account_connection
):
    hook = AtlasHook()
    hook.get_project()
    atlas_emulator.accounts.revoke_tokens()

    assert hook.get_project()["id"] == atlas_emulator.seed.group_id
    assert token_requests(atlas_emulator) == 2
    assert atlas_emulator.stats.count(route="get_project", status=401) == 1


def test_token_endpoint_429_is_retried_after_retry_after(atlas_emulator, service_account_connection, sleeps):
    atlas_emulator.faults.add(route="oauth_token", kind="status", status=429, retry_after=7, count=1)
    hook = AtlasHook()
    hook.sleep = sleeps.append

    hook.get_project()

    assert sleeps
    assert sleeps[0] >= 7
    assert token_requests(atlas_emulator, status=200) == 1


def test_wrong_secret_gives_a_clear_error(atlas_emulator, service_account_connection, monkeypatch):
    connection = json.loads(os.environ["AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps({**connection, "password": "mdb_sa_sk_wrong"})
    )

    with pytest.raises(AtlasApiError, match=r"invalid_client.*client id and password its secret") as caught:
        AtlasHook().get_project()
    assert caught.value.path == "/api/oauth/token"
    assert "mdb_sa_sk_wrong" not in str(caught.value)


def test_test_connection_names_the_token_step(atlas_emulator, service_account_connection, monkeypatch):
    connection = json.loads(os.environ["AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps({**connection, "password": "mdb_sa_sk_wrong"})
    )

    ok, message = AtlasHook().test_connection()

    assert not ok
    assert message.startswith("Could not get a service-account token:")


def test_test_connection_names_the_api_step(atlas_emulator, service_account_connection):
    atlas_emulator.ip_access_denied = True  # checked when the token is used, not when it is made

    ok, message = AtlasHook().test_connection()

    assert not ok
    assert message.startswith("Got a service-account token, but the API call failed:")
    assert "IP_ADDRESS_NOT_ON_ACCESS_LIST" in message


def test_test_connection_succeeds_with_a_service_account(atlas_emulator, service_account_connection):
    ok, message = AtlasHook().test_connection()

    assert ok, message


def test_token_and_secret_never_appear_in_logs_or_errors(
    atlas_emulator, service_account_connection, log_text
):
    _, secret = service_account_connection
    hook = AtlasHook()
    hook.get_project()
    atlas_emulator.ip_access_denied = True
    with pytest.raises(AtlasApiError) as caught:
        hook.get_project()

    token = hook.tokens.current()
    output = log_text() + str(caught.value) + repr(caught.value.__dict__)
    assert token
    assert token not in output
    assert secret not in output


def test_deferred_wait_works_with_a_service_account(atlas_emulator, service_account_connection):
    seed = atlas_emulator.seed
    job_id = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0)["id"]

    (event,) = run_triggers([make_trigger(atlas_emulator, job_id)])

    assert event["status"] == "success"
    assert token_requests(atlas_emulator) == 1


def test_many_triggers_in_one_event_loop_share_one_token(atlas_emulator, service_account_connection):
    seed = atlas_emulator.seed
    job_ids = [
        atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0)["id"]
        for _ in range(20)
    ]

    events = run_triggers([make_trigger(atlas_emulator, job_id) for job_id in job_ids])

    assert [e["status"] for e in events] == ["success"] * 20
    assert token_requests(atlas_emulator) == 1


def test_trigger_renews_a_token_the_server_expired(atlas_emulator, service_account_connection):
    seed = atlas_emulator.seed
    AtlasHook().get_project()  # a token is cached in this process
    atlas_emulator.accounts.revoke_tokens()
    job_id = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0)["id"]

    (event,) = run_triggers([make_trigger(atlas_emulator, job_id)])

    assert event["status"] == "success"
    assert token_requests(atlas_emulator) == 2


def test_serialized_trigger_holds_no_secret(atlas_emulator, service_account_connection):
    client_id, secret = service_account_connection

    serialized = json.dumps(make_trigger(atlas_emulator, "a" * 24).serialize())

    assert secret not in serialized
    assert client_id not in serialized
