"""Which snapshot ``snapshot_id="latest"`` restores: the newest completed one, fallback ones passed over."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.models.restore_job import parse_timestamp

#: The ``snapshotType`` of a snapshot Atlas took as a fallback, which it warns may hold inconsistent data.
FALLBACK_SNAPSHOT_TYPE = "fallback"


def _taken(snapshot: Mapping[str, Any]) -> datetime:
    return parse_timestamp(snapshot.get("createdAt")) or datetime.min.replace(tzinfo=timezone.utc)


def _is_fallback(snapshot: Mapping[str, Any]) -> bool:
    return snapshot.get("snapshotType") == FALLBACK_SNAPSHOT_TYPE


def _named(snapshots: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{snapshot.get('id')} (taken {snapshot.get('createdAt')})" for snapshot in snapshots)


@dataclass(frozen=True)
class SnapshotChoice:
    """
    The snapshot that ``snapshot_id="latest"`` resolves to, and the newer fallback snapshots passed over.

    :param snapshot: the chosen snapshot, or ``None`` when none qualifies.
    :param skipped_fallback: completed fallback snapshots newer than the chosen one, newest first.
    :param allow_fallback: whether fallback snapshots could be chosen.
    """

    snapshot: dict[str, Any] | None
    skipped_fallback: tuple[dict[str, Any], ...] = ()
    allow_fallback: bool = False

    def describe(self, cluster_name: str) -> str:
        """
        Return the log sentence saying which snapshot was chosen and why.

        :param cluster_name: the snapshots' cluster.
        """
        if self.snapshot is None:
            return f"No snapshot of cluster {cluster_name} qualifies"
        chosen = self.snapshot
        if self.allow_fallback:
            kind = "fallback snapshot" if _is_fallback(chosen) else "snapshot"
            why = "the newest completed snapshot, fallback ones allowed (allow_fallback_snapshot=True)"
        else:
            kind, why = "snapshot", "the newest completed non-fallback snapshot"
        sentence = f"Chose {kind} {chosen.get('id')} of cluster {cluster_name}, taken {chosen.get('createdAt')}: {why}"
        if self.skipped_fallback:
            plural = "s" if len(self.skipped_fallback) > 1 else ""
            sentence += (
                f"; skipped fallback snapshot{plural} {_named(self.skipped_fallback)}: Atlas warns a "
                "fallback snapshot may hold inconsistent data (allow_fallback_snapshot=True would use it)"
            )
        return sentence

    def not_found_message(self, cluster_name: str, seen: int) -> str:
        """
        Return the error message for when no snapshot qualifies.

        :param cluster_name: the snapshots' cluster.
        :param seen: how many snapshots were listed.
        """
        if self.skipped_fallback:
            return (
                f"Cluster {cluster_name} has no completed snapshot but fallback ones ({seen} snapshots; "
                f"fallback: {_named(self.skipped_fallback)}), and Atlas warns a fallback snapshot may "
                "hold inconsistent data: pass allow_fallback_snapshot=True to restore the newest one, "
                "take an on-demand snapshot, or wait for the next scheduled one."
            )
        return (
            f"Cluster {cluster_name} has no completed snapshot ({seen} snapshots, none completed): "
            "take an on-demand snapshot or wait for the next scheduled one."
        )


def choose_latest_snapshot(
    snapshots: Sequence[Mapping[str, Any]], *, allow_fallback: bool = False
) -> SnapshotChoice:
    """
    Return the newest completed snapshot, passing over fallback snapshots unless ``allow_fallback``.

    Queued, in-progress and failed snapshots never qualify, nor those without a readable
    ``createdAt``.

    :param snapshots: snapshots as Atlas lists them (any order).
    :param allow_fallback: let a ``snapshotType: fallback`` snapshot be chosen.
    """
    completed = sorted(
        (s for s in snapshots if s.get("status") == "completed" and parse_timestamp(s.get("createdAt"))),
        key=_taken,
        reverse=True,
    )
    skipped: list[dict[str, Any]] = []
    for snapshot in completed:
        if _is_fallback(snapshot) and not allow_fallback:
            skipped.append(dict(snapshot))
            continue
        return SnapshotChoice(dict(snapshot), tuple(skipped), allow_fallback)
    return SnapshotChoice(None, tuple(skipped), allow_fallback)
