"""SnapshotMark: which completed snapshots are new, and how the mark stays small without letting old ones back in."""

from __future__ import annotations

import json

from airflow_provider_atlas_restore.models.snapshot_marks import MAX_REMEMBERED, SnapshotMark


def test_mark_forgets_the_oldest_ids_without_letting_them_back_in():
    mark = SnapshotMark()
    snapshots = [
        {"id": f"{i:024x}", "status": "completed", "createdAt": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"}
        for i in range(MAX_REMEMBERED + 5)
    ]
    for snapshot in snapshots:
        mark.remember(snapshot)

    again = SnapshotMark.from_json(json.loads(json.dumps(mark.to_json())))

    assert again is not None
    assert len(again.seen) == MAX_REMEMBERED
    assert again.new_snapshots(snapshots) == []
    newer = {"id": "f" * 24, "status": "COMPLETED", "startTime": "2026-02-01T00:00:00Z"}
    assert again.new_snapshots([*snapshots, newer]) == [newer]


def test_mark_of_another_layout_is_not_read():
    assert SnapshotMark.from_json({"version": 99, "seen": {}}) is None
    assert SnapshotMark.from_json("garbage") is None


def test_baseline_sees_completed_snapshots_only():
    listing = [
        {"id": "a" * 24, "status": "completed", "createdAt": "2026-01-01T00:00:00Z"},
        {"id": "b" * 24, "status": "inProgress"},
    ]

    mark = SnapshotMark.baseline(listing)

    assert list(mark.seen) == ["a" * 24]
    done = {"id": "b" * 24, "status": "completed", "createdAt": "2026-01-01T01:00:00Z"}
    assert mark.new_snapshots([*listing[:1], done]) == [done]
