"""AtlasSnapshotEventTrigger in an event loop against the emulator: one event per new snapshot, never twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.triggers.snapshot_events import (
    HAS_EVENT_TRIGGERS,
    AtlasSnapshotEventTrigger,
)

pytestmark = pytest.mark.skipif(not HAS_EVENT_TRIGGERS, reason="event triggers exist from Airflow 3")


class FakeAssetStateStore:
    """What the Airflow 3.3 triggerer injects as ``asset_state_store``: JSON values by key, kept in ``values``."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes = 0

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)
        self.writes += 1


def make_trigger(emulator: Any, store: FakeAssetStateStore, **arguments: Any) -> AtlasSnapshotEventTrigger:
    """A trigger on the seeded Cluster0 polling every 10 ms, with ``store`` as its asset state store."""
    trigger = AtlasSnapshotEventTrigger(
        cluster_name=arguments.pop("cluster_name", emulator.seed.cluster_name),
        **{"poll_interval": 0.01, **arguments},
    )
    trigger.asset_state_store = store
    return trigger


def rebuilt(trigger: AtlasSnapshotEventTrigger, store: FakeAssetStateStore) -> AtlasSnapshotEventTrigger:
    """The trigger as a restarted triggerer builds it: from its serialized kwargs, with the same asset's store."""
    classpath, kwargs = trigger.serialize()
    assert classpath.endswith("AtlasSnapshotEventTrigger")
    again = AtlasSnapshotEventTrigger(**json.loads(json.dumps(kwargs)))
    again.asset_state_store = store
    return again


async def answered(emulator: Any, n: int, route: str = "list_snapshots") -> None:
    """Wait until the emulator has answered ``n`` more listings 200 (the trigger has handled n - 1 of them)."""
    target = emulator.stats.count(route=route, status=200) + n
    while emulator.stats.count(route=route, status=200) < target:
        await asyncio.sleep(0.002)


def watch(trigger: AtlasSnapshotEventTrigger, script: Callable[[], Awaitable[None]]) -> list[dict[str, Any]]:
    """Run the trigger while ``script`` runs (30 s at most); return the payloads it yielded meanwhile."""
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(dict(event.payload))

    async def both() -> None:
        task = asyncio.ensure_future(consume())
        try:
            side = asyncio.ensure_future(script())
            await asyncio.wait({task, side}, return_when=asyncio.FIRST_COMPLETED)
            if side.done():
                side.result()  # the script's own error, if it had one
            else:
                side.cancel()
        finally:
            while not task.done():  # a cancel that lands as an answer arrives may be lost: repeat it
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
            with contextlib.suppress(asyncio.CancelledError):
                task.result()

    asyncio.run(asyncio.wait_for(both(), timeout=30))
    return events


def add_snapshot(emulator: Any, **fields: Any) -> str:
    """Add a completed snapshot to the seeded cluster, taken now (the emulator's clock); return its id."""
    seed = emulator.seed
    return str(emulator.add_snapshot(seed.group_id, seed.cluster_name, **fields)["id"])


def test_one_event_per_new_snapshot_none_for_old_ones(atlas_emulator, emulator_connection):
    store = FakeAssetStateStore()
    added: list[str] = []

    async def snapshots_appear() -> None:
        await answered(atlas_emulator, 2)
        for _ in range(3):
            atlas_emulator.clock.advance(3600)
            added.append(add_snapshot(atlas_emulator))
            await answered(atlas_emulator, 3)

    events = watch(make_trigger(atlas_emulator, store), snapshots_appear)

    assert [event["snapshot_id"] for event in events] == added
    seed = atlas_emulator.seed
    assert {(e["cluster_name"], e["group_id"], e["cluster_kind"]) for e in events} == {
        (seed.cluster_name, seed.group_id, "dedicated")
    }
    assert all(event["created_at"].endswith("Z") for event in events)
    assert "http" not in json.dumps(events)


def test_several_snapshots_between_two_looks_come_oldest_first(atlas_emulator, emulator_connection):
    store = FakeAssetStateStore()
    added: list[str] = []

    async def two_appear_at_once() -> None:
        await answered(atlas_emulator, 2)
        for _ in range(2):
            atlas_emulator.clock.advance(60)
            added.append(add_snapshot(atlas_emulator))
        await answered(atlas_emulator, 3)

    events = watch(make_trigger(atlas_emulator, store), two_appear_at_once)

    assert [event["snapshot_id"] for event in events] == added


def test_include_existing_announces_the_snapshots_already_there(atlas_emulator, emulator_connection):
    store = FakeAssetStateStore()

    events = watch(
        make_trigger(atlas_emulator, store, include_existing=True), lambda: answered(atlas_emulator, 3)
    )

    assert [event["snapshot_id"] for event in events] == atlas_emulator.seed.snapshot_ids[::-1]


def test_no_event_twice_after_a_restart(atlas_emulator, emulator_connection):
    store = FakeAssetStateStore()
    first: list[str] = []

    async def one_appears() -> None:
        await answered(atlas_emulator, 2)
        first.append(add_snapshot(atlas_emulator))
        await answered(atlas_emulator, 3)

    trigger = make_trigger(atlas_emulator, store)
    before = watch(trigger, one_appears)
    later: list[str] = []

    async def another_appears_after_the_restart() -> None:
        await answered(atlas_emulator, 3)
        atlas_emulator.clock.advance(60)
        later.append(add_snapshot(atlas_emulator))
        await answered(atlas_emulator, 3)

    after = watch(rebuilt(trigger, store), another_appears_after_the_restart)

    assert [event["snapshot_id"] for event in before] == first
    assert [event["snapshot_id"] for event in after] == later
    assert store.writes == 3  # the baseline and one mark per event: the rebuilt trigger took no new baseline


def test_snapshot_in_progress_at_start_is_announced_once_completed(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    running = atlas_emulator.add_on_demand_snapshot(
        seed.group_id, seed.cluster_name, queued_seconds=3600, in_progress_seconds=3600
    )
    store = FakeAssetStateStore()

    async def it_completes() -> None:
        await answered(atlas_emulator, 3)
        atlas_emulator.complete_snapshot(seed.group_id, seed.cluster_name, running["id"])
        await answered(atlas_emulator, 3)

    events = watch(make_trigger(atlas_emulator, store), it_completes)

    assert [event["snapshot_id"] for event in events] == [running["id"]]
    assert events[0]["snapshot_type"] == "onDemand"


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503, "count": 7},
        {"kind": "status", "status": 429, "retry_after": 0, "count": 7},
        {"kind": "reset", "count": 7},
        {"kind": "html", "status": 502, "count": 7},
    ],
    ids=["503", "429", "reset", "502-html"],
)
def test_transient_faults_are_waited_out_without_loss_or_duplicate(atlas_emulator, monkeypatch, fault):
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    extra = connection.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    connection["extra"] = {**extra, "retry_initial_wait": 0.001, "retry_max_wait": 0.002}
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
    store = FakeAssetStateStore()
    added: list[str] = []

    async def faults_around_a_new_snapshot() -> None:
        await answered(atlas_emulator, 2)
        atlas_emulator.faults.add("list_snapshots", **fault)
        added.append(add_snapshot(atlas_emulator))
        while atlas_emulator.faults.pending:
            await asyncio.sleep(0.002)
        await answered(atlas_emulator, 3)

    events = watch(make_trigger(atlas_emulator, store), faults_around_a_new_snapshot)

    assert [event["snapshot_id"] for event in events] == added


def test_flex_cluster_is_told_once_then_watched_through_the_flex_api(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    atlas_emulator.add_flex_cluster(seed.group_id, "Flex0")
    atlas_emulator.add_flex_snapshot(seed.group_id, "Flex0", created_at=atlas_emulator.clock.now() - 7200)
    store = FakeAssetStateStore()
    added: list[str] = []

    async def flex_snapshots_appear() -> None:
        await answered(atlas_emulator, 2, "list_flex_snapshots")
        for _ in range(2):
            atlas_emulator.clock.advance(600)
            added.append(atlas_emulator.add_flex_snapshot(seed.group_id, "Flex0")["id"])
            await answered(atlas_emulator, 3, "list_flex_snapshots")

    events = watch(make_trigger(atlas_emulator, store, cluster_name="Flex0"), flex_snapshots_appear)

    assert [event["snapshot_id"] for event in events] == added
    assert {event["cluster_kind"] for event in events} == {"flex"}
    assert (
        atlas_emulator.stats.count(route="list_snapshots", status=400) == 1
    )  # the one refused look that told the kind


def test_unknown_cluster_ends_the_trigger_with_the_error(atlas_emulator, emulator_connection):
    trigger = make_trigger(atlas_emulator, FakeAssetStateStore(), cluster_name="NoSuchCluster")

    with pytest.raises(AtlasApiError) as raised:
        watch(trigger, lambda: asyncio.sleep(20))

    assert raised.value.status == 404


def test_serialized_trigger_holds_settings_only(atlas_emulator, emulator_connection):
    trigger = make_trigger(atlas_emulator, FakeAssetStateStore())

    classpath, kwargs = trigger.serialize()

    assert classpath == "airflow_provider_atlas_restore.triggers.snapshot_events.AtlasSnapshotEventTrigger"
    assert kwargs == {
        "cluster_name": "Cluster0",
        "group_id": None,
        "atlas_conn_id": "mongodb_atlas_default",
        "cluster_type": "auto",
        "sharded": False,
        "include_existing": False,
        "poll_interval": 0.01,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cluster_name": "bad name!"}, "cluster_name"),
        ({"cluster_name": "Cluster0", "cluster_type": "serverless"}, "cluster_type"),
        ({"cluster_name": "Cluster0", "poll_interval": 0}, "poll_interval"),
        ({"cluster_name": "Cluster0", "group_id": "not-an-id"}, "group_id"),
        ({"cluster_name": "Cluster0", "cluster_type": "flex", "sharded": True}, "sharded"),
    ],
)
def test_bad_settings_are_refused_before_any_request(arguments, message):
    with pytest.raises(AtlasInputError, match=message):
        AtlasSnapshotEventTrigger(**arguments)


def test_events_and_the_stored_mark_hold_no_secret_or_link(atlas_emulator, emulator_connection):
    store = FakeAssetStateStore()

    async def one_appears() -> None:
        await answered(atlas_emulator, 2)
        add_snapshot(atlas_emulator)
        await answered(atlas_emulator, 3)

    trigger = make_trigger(atlas_emulator, store)
    events = watch(trigger, one_appears)

    assert len(events) == 1
    stored = json.dumps([events, store.values, trigger.serialize()])
    assert atlas_emulator.private_key not in stored
    assert atlas_emulator.public_key not in stored
    assert "http" not in stored
    assert store.writes == 2  # the baseline, then the mark before the one event
