"""AtlasAsyncClients share one httpx client per event loop and connection: one challenge, no leaks."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient
from airflow_provider_atlas_restore.client.async_pool import async_client_pool
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.testing.clock import ManualClock
from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import seed_basic
from tests.trigger_runs import job_requests, make_trigger, new_job, run_triggers


@pytest.fixture(autouse=True)
def _pool_starts_empty() -> None:
    assert len(async_client_pool) == 0


def config_for(emulator: Any, **changes: Any) -> AtlasConnectionConfig:
    fields: dict[str, Any] = {
        "conn_id": "test",
        "base_url": emulator.base_url,
        "login": emulator.public_key,
        "password": emulator.private_key,
        "group_id": emulator.seed.group_id,
        "retry": RetryPolicy(initial_wait=0.01),
    }
    return AtlasConnectionConfig(**{**fields, **changes})


async def poll(client: AtlasAsyncClient, emulator: Any, job_id: str) -> dict[str, Any]:
    return await client.get_restore_job(emulator.seed.group_id, emulator.seed.cluster_name, job_id)


def ready_after(emulator: Any, polls: int, shared_clients_seen: set[int]) -> Callable[[], Awaitable[None]]:
    """Make the jobs ready once ``polls`` polls were answered, noting the shared clients meanwhile."""

    async def watch() -> None:
        while job_requests(emulator, status=200) < polls:
            shared_clients_seen.update(id(client) for client in async_client_pool.clients())
            await asyncio.sleep(0.002)
        emulator.clock.advance(60)

    return watch


def test_fifty_triggers_pay_one_challenge_then_one_request_a_poll(atlas_emulator, emulator_connection):
    job_ids = [new_job(atlas_emulator, ready_after=60.0) for _ in range(50)]
    shared_clients_seen: set[int] = set()

    events = run_triggers(
        [make_trigger(atlas_emulator, job_id) for job_id in job_ids],
        ready_after(atlas_emulator, 150, shared_clients_seen),
    )

    assert [event["status"] for event in events] == ["success"] * 50
    assert atlas_emulator.stats.challenges == 1
    assert job_requests(atlas_emulator) == job_requests(atlas_emulator, status=200) + 1
    assert len(shared_clients_seen) == 1
    assert len(async_client_pool) == 0


@pytest.mark.parametrize("differs_by", ["login", "base_url"])
def test_connections_that_differ_do_not_share_a_client(atlas_emulator, differs_by):
    other_emulator = AtlasEmulator(clock=ManualClock())
    with other_emulator:
        seed_basic(other_emulator)
        if differs_by == "login":
            atlas_emulator.add_api_key("otherpublickey", atlas_emulator.private_key)  # only the login differs
            other, other_config = atlas_emulator, config_for(atlas_emulator, login="otherpublickey")
        else:
            other, other_config = other_emulator, config_for(other_emulator)
        job_id, other_job_id = new_job(atlas_emulator, ready_after=0.0), new_job(other, ready_after=0.0)

        async def both() -> tuple[Any, ...]:
            async with (
                AtlasAsyncClient(config_for(atlas_emulator)) as one,
                AtlasAsyncClient(other_config) as two,
            ):
                lent = async_client_pool.clients()
                jobs = await asyncio.gather(poll(one, atlas_emulator, job_id), poll(two, other, other_job_id))
            return lent, jobs

        lent, jobs = asyncio.run(both())

        assert [job["id"] for job in jobs] == [job_id, other_job_id]
        assert len(lent) == 2
        assert atlas_emulator.stats.challenges + other_emulator.stats.challenges == 2  # a nonce each
        assert all(client.is_closed for client in lent)
        assert len(async_client_pool) == 0


def test_event_loops_one_after_another_never_share_a_client(atlas_emulator):
    job_id = new_job(atlas_emulator, ready_after=0.0)
    config = config_for(atlas_emulator)
    left_open = AtlasAsyncClient(config)

    async def enter_and_never_leave() -> Any:
        await left_open.__aenter__()  # as if the loop ended with a trigger still inside
        await poll(left_open, atlas_emulator, job_id)
        return async_client_pool.clients()[0]

    async def poll_once() -> Any:
        async with AtlasAsyncClient(config) as client:
            (lent,) = async_client_pool.clients()
            job = await poll(client, atlas_emulator, job_id)
        return lent, job

    abandoned = asyncio.run(enter_and_never_leave())
    lent, job = asyncio.run(poll_once())

    assert job["id"] == job_id
    assert lent is not abandoned  # the finished loop's client was forgotten, not lent again
    assert lent.is_closed
    assert len(async_client_pool) == 0


def test_event_loops_in_two_threads_get_a_client_each_and_close_both(atlas_emulator):
    job_id = new_job(atlas_emulator, ready_after=0.0)
    config = config_for(atlas_emulator)
    both_inside = threading.Barrier(2, timeout=30)
    seen: list[list[Any]] = []
    jobs: list[dict[str, Any]] = []

    async def poll_while_the_other_loop_does() -> None:
        async with AtlasAsyncClient(config) as client:
            await asyncio.to_thread(both_inside.wait)
            seen.append(async_client_pool.clients())
            jobs.append(await poll(client, atlas_emulator, job_id))
            await asyncio.to_thread(both_inside.wait)

    threads = [
        threading.Thread(target=asyncio.run, args=(poll_while_the_other_loop_does(),)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [job["id"] for job in jobs] == [job_id, job_id]
    assert [len(clients) for clients in seen] == [2, 2]
    assert atlas_emulator.stats.challenges == 2  # each loop's client has its own nonce
    assert all(client.is_closed for client in seen[0])
    assert len(async_client_pool) == 0


def test_an_error_inside_async_with_still_gives_the_client_back(atlas_emulator):
    job_id = new_job(atlas_emulator, ready_after=0.0)
    config = config_for(atlas_emulator)

    async def fail_inside_while_another_user_stays() -> Any:
        async with AtlasAsyncClient(config) as staying:
            with pytest.raises(ValueError, match="boom"):
                async with AtlasAsyncClient(config):
                    raise ValueError("boom")
            (lent,) = async_client_pool.clients()
            assert not lent.is_closed  # the other user still holds it
            await poll(staying, atlas_emulator, job_id)
        return lent

    lent = asyncio.run(fail_inside_while_another_user_stays())

    assert lent.is_closed
    assert len(async_client_pool) == 0


def test_wrong_password_fails_every_trigger_without_deadlock(atlas_emulator, monkeypatch):
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    monkeypatch.setenv(
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps({**connection, "password": "wrong-key"})
    )
    job_ids = [new_job(atlas_emulator, ready_after=0.0) for _ in range(10)]

    events = run_triggers([make_trigger(atlas_emulator, job_id) for job_id in job_ids])

    assert [event["status"] for event in events] == ["failure"] * 10
    assert all("401" in event["message"] for event in events)
    assert len(async_client_pool) == 0


def test_first_request_503_is_retried_by_its_trigger_alone(atlas_emulator, quick_retry_connection):
    atlas_emulator.faults.add(route="get_restore_job", kind="status", status=503, count=1)
    job_ids = [new_job(atlas_emulator, ready_after=0.0) for _ in range(10)]

    events = run_triggers([make_trigger(atlas_emulator, job_id) for job_id in job_ids])

    assert [event["status"] for event in events] == ["success"] * 10
    assert job_requests(atlas_emulator, status=503) == 1
    assert job_requests(atlas_emulator, status=200) == 10
    assert atlas_emulator.stats.challenges == 1


def test_service_account_triggers_share_one_client_and_one_token(atlas_emulator, service_account_connection):
    job_ids = [new_job(atlas_emulator, ready_after=60.0) for _ in range(20)]
    shared_clients_seen: set[int] = set()

    events = run_triggers(
        [make_trigger(atlas_emulator, job_id) for job_id in job_ids],
        ready_after(atlas_emulator, 40, shared_clients_seen),
    )

    assert [event["status"] for event in events] == ["success"] * 20
    assert atlas_emulator.stats.count(route="oauth_token") == 1
    assert atlas_emulator.stats.challenges == 0
    assert len(shared_clients_seen) == 1
    assert len(async_client_pool) == 0
