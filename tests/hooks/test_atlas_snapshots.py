"""AtlasHook: listing snapshots across pages and choosing the newest completed one (emulator)."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasSnapshotNotFoundError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook


@pytest.fixture
def cluster(atlas_emulator, emulator_connection):
    """A fresh replica-set cluster with no snapshot yet; returns (emulator, group id, name)."""
    group = atlas_emulator.seed.group_id
    atlas_emulator.add_cluster(group, "Fresh0")
    return atlas_emulator, group, "Fresh0"


def add(emulator, group, name, status, minutes_ago):
    now = emulator.clock.now()
    return emulator.add_snapshot(group, name, status=status, created_at=now - 60 * minutes_ago)["id"]


def test_newest_completed_is_chosen_over_newer_in_progress_queued_and_failed(cluster):
    emulator, group, name = cluster
    add(emulator, group, name, "completed", 120)
    wanted = add(emulator, group, name, "completed", 60)
    add(emulator, group, name, "failed", 30)
    add(emulator, group, name, "inProgress", 10)
    add(emulator, group, name, "queued", 1)

    assert AtlasHook().latest_completed_snapshot(name)["id"] == wanted


def test_snapshots_are_read_across_pages(cluster):
    emulator, group, name = cluster
    ids = [add(emulator, group, name, "completed", minutes) for minutes in range(1, 8)]
    hook = AtlasHook()

    listed = hook.list_snapshots(name)
    pages = hook.get_snapshots_page(name, items_per_page=3)

    assert [s["id"] for s in listed] == ids  # newest first
    assert len(pages.results) == 3


def test_page_size_of_snapshot_listing_is_respected(cluster):
    emulator, group, name = cluster
    for minutes in range(1, 8):
        add(emulator, group, name, "completed", minutes)

    AtlasHook().get_snapshots_page(name, page_num=2, items_per_page=3)

    assert emulator.stats.count(route="list_snapshots", status=200) == 1


def test_sharded_cluster_snapshot_is_found_without_being_told(atlas_emulator, emulator_connection):
    group = atlas_emulator.seed.group_id
    atlas_emulator.add_cluster(group, "Shards0", sharded=True, shards=2)
    snapshot = atlas_emulator.add_snapshot(group, "Shards0")

    latest = AtlasHook().latest_completed_snapshot("Shards0")

    assert latest["id"] == snapshot["id"]
    assert latest["type"] == "shardedCluster"
    assert len(latest["members"]) == 3


def test_no_completed_snapshot_is_a_clear_error(cluster):
    emulator, group, name = cluster
    add(emulator, group, name, "inProgress", 1)

    with pytest.raises(
        AtlasSnapshotNotFoundError, match="Cluster Fresh0 has no completed snapshot \\(1 snapshots"
    ):
        AtlasHook().latest_completed_snapshot(name)


def test_cluster_without_snapshots_is_a_clear_error(cluster):
    with pytest.raises(AtlasSnapshotNotFoundError, match="no completed snapshot \\(0 snapshots"):
        AtlasHook().latest_completed_snapshot("Fresh0")
