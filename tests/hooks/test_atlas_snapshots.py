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


def test_fallback_snapshots_are_skipped_by_the_hook_unless_allowed(cluster):
    emulator, group, name = cluster
    scheduled = add(emulator, group, name, "completed", 60)
    fallback = emulator.add_snapshot(
        group, name, created_at=emulator.clock.now() - 60, snapshot_type="fallback"
    )["id"]
    hook = AtlasHook()

    assert hook.latest_completed_snapshot(name)["id"] == scheduled
    assert hook.latest_completed_snapshot(name, allow_fallback_snapshot=True)["id"] == fallback


def test_allow_fallback_snapshot_must_be_a_flag(cluster):
    from airflow_provider_atlas_restore.exceptions import AtlasInputError

    emulator, _, name = cluster
    with pytest.raises(AtlasInputError, match="allow_fallback_snapshot='yes'"):
        AtlasHook().latest_completed_snapshot(name, allow_fallback_snapshot="yes")  # type: ignore[arg-type]
    assert emulator.stats.count() == 0


def test_point_in_time_check_reads_the_cluster_and_schedule_only_for_point_in_time(cluster):
    from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec

    emulator, group, name = cluster
    moment = int(emulator.clock.now()) - 3600
    hook = AtlasHook()
    spec = RestoreJobSpec(
        "pointInTime", target_cluster_name=name, target_group_id=group, point_in_time_utc_seconds=moment
    )

    window = hook.check_point_in_time_restore(name, spec)
    skipped = hook.check_point_in_time_restore(name, RestoreJobSpec("download", snapshot_id="a" * 24))

    assert window is not None
    assert (window.continuous_backup, window.restore_window_days) == (True, 7)
    assert skipped is None
    assert emulator.stats.count(route="get_cluster", status=200) == 1
    assert emulator.stats.count(route="get_backup_schedule", status=200) == 1
