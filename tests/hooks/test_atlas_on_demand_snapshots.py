"""AtlasHook on-demand snapshots: take (one at a time), read, delete, retention; over the emulator and recorded."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasInputError,
    AtlasSnapshotInProgressError,
)
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.models.snapshot import Snapshot, SnapshotStatus
from tests.conftest import BASE_URL, CLUSTER, GROUP_ID

SNAPSHOTS_URL = f"{BASE_URL}/api/atlas/v2/groups/{GROUP_ID}/clusters/{CLUSTER}/backup/snapshots"


@pytest.fixture
def emulator_hook(emulator_connection, sleeps):
    atlas_hook = AtlasHook(emulator_connection)
    atlas_hook.sleep = sleeps.append
    yield atlas_hook
    atlas_hook.close()


@pytest.fixture
def slow_snapshots(atlas_emulator):
    atlas_emulator.backup_timings.snapshot_queued = 30
    atlas_emulator.backup_timings.snapshot_in_progress = 90
    return atlas_emulator


def test_taken_snapshot_is_queued_then_completed(emulator_hook, slow_snapshots):
    taken = emulator_hook.take_snapshot("Cluster0", description="nightly", retention_in_days=3)
    slow_snapshots.clock.advance(120)

    read = emulator_hook.get_snapshot("Cluster0", taken["id"])

    assert Snapshot.from_api(taken).status is SnapshotStatus.QUEUED
    assert Snapshot.from_api(read).status is SnapshotStatus.COMPLETED
    assert read["description"] == "nightly"
    assert slow_snapshots.stats.count(route="take_snapshot", status=200) == 1


def test_second_snapshot_names_the_running_one(emulator_hook, slow_snapshots):
    running = emulator_hook.take_snapshot("Cluster0")

    with pytest.raises(AtlasSnapshotInProgressError) as caught:
        emulator_hook.take_snapshot("Cluster0")

    assert caught.value.snapshot_id == running["id"]
    assert caught.value.status == "queued"
    assert running["id"] in str(caught.value)
    assert isinstance(caught.value.__cause__, AtlasApiError)
    assert emulator_hook.find_snapshot_in_progress("Cluster0")["id"] == running["id"]


def test_refusal_without_a_running_snapshot_stays_an_api_error(emulator_hook, atlas_emulator):
    atlas_emulator.faults.add(route="take_snapshot", kind="status", status=400)

    with pytest.raises(AtlasApiError) as caught:
        emulator_hook.take_snapshot("Cluster0")

    assert caught.value.status == 400
    assert emulator_hook.find_snapshot_in_progress("Cluster0") is None


def test_take_is_not_repeated_after_a_5xx_but_is_after_a_429(emulator_hook, atlas_emulator):
    atlas_emulator.faults.add(route="take_snapshot", kind="status", status=503)
    with pytest.raises(AtlasApiError, match="503"):
        emulator_hook.take_snapshot("Cluster0")
    atlas_emulator.faults.add(route="take_snapshot", kind="status", status=429, retry_after=1)

    taken = emulator_hook.take_snapshot("Cluster0")

    assert taken["status"] == "queued"
    assert atlas_emulator.stats.count(route="take_snapshot", status=503) == 1
    assert atlas_emulator.stats.count(route="take_snapshot", status=429) == 1
    assert atlas_emulator.stats.count(route="take_snapshot", status=200) == 1


def test_delete_and_retention_change(emulator_hook, atlas_emulator):
    snapshot_id = atlas_emulator.seed.snapshot_id

    changed = emulator_hook.update_snapshot_retention("Cluster0", snapshot_id, 2, "MONTHS")
    emulator_hook.delete_snapshot("Cluster0", snapshot_id)

    assert changed["id"] == snapshot_id
    with pytest.raises(AtlasApiError) as caught:
        emulator_hook.get_snapshot("Cluster0", snapshot_id)
    assert caught.value.status == 404
    assert atlas_emulator.stats.count(route="delete_snapshot", status=204) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hook: hook.take_snapshot("Cluster0", retention_in_days=0), "retention_in_days=0"),
        (lambda hook: hook.take_snapshot("bad/name"), "cluster_name"),
        (lambda hook: hook.delete_snapshot("Cluster0", "latest"), "snapshot_id='latest'"),
        (
            lambda hook: hook.update_snapshot_retention("Cluster0", "0" * 24, 1, "days"),
            "retention_unit='days'",
        ),
        (lambda hook: hook.get_snapshot("Cluster0", "0" * 24, sharded="no"), "sharded='no'"),
    ],
)
def test_bad_input_is_refused_before_any_request(emulator_hook, atlas_emulator, call, message):
    emulator_hook.get_project()
    atlas_emulator.stats.reset()

    with pytest.raises(AtlasInputError, match=message):
        call(emulator_hook)

    assert atlas_emulator.stats.count() == 0


@pytest.mark.parametrize(
    "name", ["v2-snapshot-take", "v2-snapshot-get-inprogress", "v2-snapshot-get-completed"]
)
def test_recorded_snapshots_parse_through_the_hook(hook, requests_mock, recorded, name):
    answer = recorded(name)
    snapshot_id = answer["body"]["id"]
    requests_mock.post(
        SNAPSHOTS_URL, status_code=answer["status"], json=answer["body"], headers=answer["headers"]
    )
    requests_mock.get(
        f"{SNAPSHOTS_URL}/{snapshot_id}",
        status_code=answer["status"],
        json=answer["body"],
        headers=answer["headers"],
    )

    got = (
        hook.take_snapshot(CLUSTER) if name == "v2-snapshot-take" else hook.get_snapshot(CLUSTER, snapshot_id)
    )

    assert got == answer["body"]
    assert Snapshot.from_api(got).status is not None


def test_recorded_delete_parses_through_the_hook(hook, requests_mock, recorded):
    answer = recorded("v2-snapshot-delete")
    requests_mock.delete(f"{SNAPSHOTS_URL}/{'a' * 24}", status_code=204, headers=answer["headers"])

    assert hook.delete_snapshot(CLUSTER, "a" * 24) is None
    assert requests_mock.last_request.headers["Accept"] == "application/vnd.atlas.2023-01-01+json"


def test_a_running_sharded_snapshot_is_named_as_sharded_and_survives_pickling(emulator_hook, slow_snapshots):
    import pickle

    slow_snapshots.add_cluster(slow_snapshots.seed.group_id, "Shard0", sharded=True, shards=2)
    running = emulator_hook.take_snapshot("Shard0")

    with pytest.raises(AtlasSnapshotInProgressError) as caught:
        emulator_hook.take_snapshot("Shard0")

    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.snapshot_id, copy.status, copy.sharded) == (running["id"], "queued", True)
    assert emulator_hook.get_snapshot("Shard0", running["id"], sharded=copy.sharded)["id"] == running["id"]


def test_a_flex_cluster_is_refused_from_the_posts_answer_without_looking_for_a_running_one(
    emulator_hook, atlas_emulator
):
    from airflow_provider_atlas_restore.exceptions import AtlasClusterKindError
    from airflow_provider_atlas_restore.testing.seeding import seed_flex

    seed_flex(atlas_emulator, atlas_emulator.seed)

    with pytest.raises(AtlasClusterKindError, match="Atlas takes no on-demand snapshots of flex clusters"):
        emulator_hook.take_snapshot("Flex0")

    assert atlas_emulator.stats.count(route="take_snapshot", status=400) == 1
    assert atlas_emulator.stats.count(method="GET") == 0  # no listing: the error code says it all


def earlier_try(hook, description="nightly", try_number=2, started=None):
    from datetime import datetime, timedelta, timezone

    began = started or datetime.now(timezone.utc) - timedelta(minutes=5)
    return hook.find_snapshot_of_an_earlier_try(
        "Cluster0", description=description, try_number=try_number, dag_run_started=began
    )


def test_an_earlier_trys_snapshot_is_found_by_description_and_time_newest_not_failed_first(
    emulator_hook, atlas_emulator
):
    from datetime import datetime, timedelta, timezone

    group = atlas_emulator.seed.group_id
    atlas_emulator.add_on_demand_snapshot(group, "Cluster0", description="nightly")  # before the DAG run
    began = datetime.fromtimestamp(atlas_emulator.clock.now() + 300, tz=timezone.utc)
    atlas_emulator.clock.advance(600)
    older = atlas_emulator.add_on_demand_snapshot(
        group, "Cluster0", description="nightly", one_at_a_time=False
    )
    atlas_emulator.clock.advance(1)
    newer = atlas_emulator.add_on_demand_snapshot(
        group, "Cluster0", description="nightly", one_at_a_time=False
    )
    atlas_emulator.add_on_demand_snapshot(group, "Cluster0", description="other", one_at_a_time=False)
    atlas_emulator.clock.advance(1)
    failed = atlas_emulator.add_on_demand_snapshot(
        group, "Cluster0", description="nightly", one_at_a_time=False
    )
    atlas_emulator.fail_snapshot(group, "Cluster0", failed["id"])

    assert earlier_try(emulator_hook, started=began)["id"] == newer["id"] != older["id"]
    assert earlier_try(emulator_hook, started=began, description="none like it") is None
    assert earlier_try(emulator_hook, started=began, try_number=1) is None
    assert earlier_try(emulator_hook, started=began + timedelta(hours=1)) is None


def test_an_earlier_trys_snapshot_of_a_sharded_cluster_is_found_in_the_sharded_list(
    emulator_hook, atlas_emulator
):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, "Shard0", sharded=True, shards=2)
    taken = atlas_emulator.add_on_demand_snapshot(
        atlas_emulator.seed.group_id, "Shard0", description="nightly"
    )

    from datetime import datetime, timedelta, timezone

    found = emulator_hook.find_snapshot_of_an_earlier_try(
        "Shard0",
        description="nightly",
        try_number=2,
        dag_run_started=datetime.now(timezone.utc) - timedelta(minutes=5),
    )

    assert found["id"] == taken["id"]
    assert Snapshot.from_api(found).is_sharded
