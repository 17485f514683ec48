"""AtlasResourceTrigger over real sockets against the emulator: any watched resource, one event, plain JSON."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from airflow_provider_atlas_restore.api.watched_resources import (
    WatchedCollectionRestoreJob,
    WatchedExportJob,
    WatchedSnapshot,
    watched_resource_from_json,
    watched_resource_to_json,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.triggers.polling import AtlasResourceTrigger
from tests.trigger_runs import first_event


def _trigger(resource: Any, **arguments: Any) -> AtlasResourceTrigger:
    defaults = {"poll_interval": 0.01, "timeout_at": time.time() + 30}
    return AtlasResourceTrigger(
        atlas_conn_id="mongodb_atlas_default",
        resource=watched_resource_to_json(resource),
        **{**defaults, **arguments},
    )


def _run(trigger: AtlasResourceTrigger) -> dict[str, Any]:
    return asyncio.run(asyncio.wait_for(first_event(trigger), timeout=60))


def test_snapshot_trigger_waits_for_completed_and_names_the_snapshot(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    snap = atlas_emulator.add_on_demand_snapshot(
        seed.group_id, seed.cluster_name, queued_seconds=3600, in_progress_seconds=3600
    )
    trigger = _trigger(WatchedSnapshot(seed.group_id, seed.cluster_name, snap["id"]))

    async def complete_after_two_polls() -> dict[str, Any]:
        task = asyncio.ensure_future(first_event(trigger))
        while atlas_emulator.stats.count(route="get_snapshot", status=200) < 2:
            await asyncio.sleep(0.002)
        atlas_emulator.complete_snapshot(seed.group_id, seed.cluster_name, snap["id"])
        return await task

    event = asyncio.run(asyncio.wait_for(complete_after_two_polls(), timeout=60))

    assert (event["status"], event["state"], event["resource_kind"]) == ("success", "completed", "snapshot")
    assert event["snapshot_id"] == snap["id"]
    assert atlas_emulator.stats.count(route="get_snapshot", status=200) >= 3


def test_failed_export_job_ends_the_wait_with_a_failure(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    bucket = atlas_emulator.add_export_bucket(seed.group_id, "export-bucket")
    job = atlas_emulator.add_export_job(
        seed.group_id, seed.cluster_name, snapshot_id=seed.snapshot_ids[0], export_bucket_id=bucket["_id"]
    )
    atlas_emulator.fail_export_job(seed.group_id, seed.cluster_name, job["id"])

    event = _run(_trigger(WatchedExportJob(seed.group_id, seed.cluster_name, job["id"])))

    assert (event["status"], event["resource_kind"], event["export_id"]) == (
        "failure",
        "export_job",
        job["id"],
    )


def test_time_up_gives_one_timeout_event(atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    snap = atlas_emulator.add_on_demand_snapshot(
        seed.group_id, seed.cluster_name, queued_seconds=3600, in_progress_seconds=3600
    )

    event = _run(
        _trigger(WatchedSnapshot(seed.group_id, seed.cluster_name, snap["id"]), timeout_at=time.time())
    )

    assert event["status"] == "timeout"
    assert "not ready" in event["message"]


@pytest.mark.parametrize(
    "resource",
    [
        WatchedSnapshot("a" * 24, "Cluster0", "b" * 24, sharded=True),
        WatchedExportJob("a" * 24, "Cluster0", "c" * 24),
        WatchedCollectionRestoreJob("a" * 24, "Cluster0", "d" * 24),
    ],
    ids=["snapshot", "export_job", "collection_restore_job"],
)
def test_serialized_trigger_is_plain_json_that_rebuilds_the_same_trigger(resource):
    path, arguments = _trigger(resource).serialize()
    rebuilt = AtlasResourceTrigger(**json.loads(json.dumps(arguments)))

    assert path == "airflow_provider_atlas_restore.triggers.polling.AtlasResourceTrigger"
    assert rebuilt.watched() == resource
    assert rebuilt.serialize() == (path, arguments)


@pytest.mark.parametrize(
    "data",
    [
        {
            "kind": "snapshot",
            "fields": {"group_id": "a" * 24, "cluster_name": "Cluster0", "snapshot_id": "../x"},
        },
        {"kind": "cluster", "fields": {}},
        {"kind": "export_job", "fields": "not a mapping"},
    ],
    ids=["bad-id", "unknown-kind", "fields-not-a-mapping"],
)
def test_rebuilding_checks_the_kind_and_the_ids_again(data):
    with pytest.raises((AtlasInputError, TypeError, ValueError)):
        watched_resource_from_json(data)
