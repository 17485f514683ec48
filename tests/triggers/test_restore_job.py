"""AtlasRestoreJobTrigger over real sockets against the emulator: polls, outcomes, serialization."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger
from tests.trigger_runs import job_requests, make_trigger, new_job


def run_trigger(trigger: AtlasRestoreJobTrigger, while_running: Any = None) -> list[dict[str, Any]]:
    """Run the trigger to its end (and ``while_running`` beside it); return the events' payloads."""

    async def collect() -> list[dict[str, Any]]:
        side = asyncio.ensure_future(while_running()) if while_running else None
        events = [event.payload async for event in trigger.run()]
        if side:
            side.cancel()
        return events

    return asyncio.run(asyncio.wait_for(collect(), timeout=60))


def test_ready_after_n_polls_costs_n_plus_one_requests(atlas_emulator, emulator_connection):
    job_id = new_job(atlas_emulator, ready_after=60.0)  # well inside the nonce's life

    async def make_ready_after_three_polls() -> None:
        while job_requests(atlas_emulator, status=200) < 3:
            await asyncio.sleep(0.002)
        atlas_emulator.clock.advance(60)

    events = run_trigger(make_trigger(atlas_emulator, job_id), make_ready_after_three_polls)

    assert [e["status"] for e in events] == ["success"]
    assert events[0]["state"] == "ready"
    polls = job_requests(atlas_emulator, status=200)
    assert polls >= 4
    assert job_requests(atlas_emulator) == polls + 1  # one Digest challenge, then one request a poll
    assert atlas_emulator.stats.challenges == 1


def test_expired_nonce_costs_one_fresh_challenge(atlas_emulator, emulator_connection):
    job_id = new_job(atlas_emulator, ready_after=3600.0)

    async def outlive_the_nonce_after_two_polls() -> None:
        while job_requests(atlas_emulator, status=200) < 2:
            await asyncio.sleep(0.002)
        atlas_emulator.clock.advance(3600)

    events = run_trigger(make_trigger(atlas_emulator, job_id), outlive_the_nonce_after_two_polls)

    assert [e["status"] for e in events] == ["success"]
    assert atlas_emulator.stats.challenges == 2
    assert job_requests(atlas_emulator) == job_requests(atlas_emulator, status=200) + 2


def test_event_carries_no_download_link(atlas_emulator, emulator_connection):
    job_id = new_job(atlas_emulator, ready_after=0.0)

    (event,) = run_trigger(make_trigger(atlas_emulator, job_id))

    assert event["status"] == "success"
    assert "http" not in json.dumps(event)


@pytest.mark.parametrize(
    ("act", "state"),
    [("fail_job", "failed"), ("cancel_job", "cancelled"), ("expire_job", "expired")],
)
def test_terminal_failure_yields_one_failure_event(atlas_emulator, emulator_connection, act, state):
    job_id = new_job(atlas_emulator)
    seed = atlas_emulator.seed
    getattr(atlas_emulator, act)(seed.group_id, seed.cluster_name, job_id)

    events = run_trigger(make_trigger(atlas_emulator, job_id))

    assert len(events) == 1
    assert events[0]["status"] == "failure"
    assert events[0]["state"] == state
    assert f"Restore job {job_id} of cluster {seed.cluster_name} is {state}" in events[0]["message"]


def test_transient_503_is_retried_then_success(atlas_emulator, quick_retry_connection):
    job_id = new_job(atlas_emulator, ready_after=0.0)
    atlas_emulator.faults.add(route="get_restore_job", kind="status", status=503, count=2)

    events = run_trigger(make_trigger(atlas_emulator, job_id))

    assert [e["status"] for e in events] == ["success"]
    assert job_requests(atlas_emulator, status=503) == 2


def test_wrong_keys_yield_a_failure_event_that_says_to_check_them(atlas_emulator, monkeypatch):
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    monkeypatch.setenv(
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps({**connection, "password": "wrong-key"})
    )
    job_id = new_job(atlas_emulator)

    (event,) = run_trigger(make_trigger(atlas_emulator, job_id))

    assert event["status"] == "failure"
    assert "401" in event["message"]
    assert "Check the key pair" in event["message"]


def test_time_up_yields_a_timeout_event(atlas_emulator, emulator_connection):
    job_id = new_job(atlas_emulator)

    (event,) = run_trigger(make_trigger(atlas_emulator, job_id, timeout_at=time.time() + 0.05))

    assert event["status"] == "timeout"
    assert job_id in event["message"]


def test_serialize_round_trip_rebuilds_the_same_trigger(atlas_emulator):
    trigger = make_trigger(atlas_emulator, "6a7948342c88faeba59eb866", poll_interval=42.0, timeout_at=1.5)

    classpath, arguments = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(__import__(module, fromlist=[name]), name)(**arguments)

    assert classpath == "airflow_provider_atlas_restore.triggers.restore_job.AtlasRestoreJobTrigger"
    assert rebuilt.serialize() == (classpath, arguments)


def test_serialized_trigger_holds_no_secret(atlas_emulator, emulator_connection):
    trigger = make_trigger(atlas_emulator, new_job(atlas_emulator, ready_after=0.0))

    serialized = json.dumps(trigger.serialize())

    assert atlas_emulator.private_key not in serialized
    assert atlas_emulator.public_key not in serialized
    assert "http" not in serialized


def test_clients_share_one_tls_context_per_verify_setting():
    from airflow_provider_atlas_restore.client.async_client import tls_context

    assert tls_context(True) is tls_context(True)
    assert tls_context(False) is not tls_context(True)
    assert tls_context(False).verify_mode.name == "CERT_NONE"
