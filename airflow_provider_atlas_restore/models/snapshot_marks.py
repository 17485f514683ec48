"""
Which completed snapshots of a cluster are new: the durable mark of the snapshot event trigger.

A :class:`SnapshotMark` remembers the completed snapshots already seen (announced, or there when
the watcher first looked) by id and time taken. A snapshot is new when it is completed, its id is
not remembered and it was taken after the mark's ``floor``. The mark stays small: past
:data:`MAX_REMEMBERED` ids, the oldest are forgotten and the floor rises to the newest forgotten
time, so a forgotten snapshot can never be new again. Nothing is forgotten because a listing
missed it, so a short or faulty answer cannot make an old snapshot look new. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.models.snapshot_choice import snapshot_taken_at
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp

__all__ = ["MARK_VERSION", "MAX_REMEMBERED", "SnapshotMark", "is_completed_snapshot"]

#: The layout of :meth:`SnapshotMark.to_json`; another version is not read (the watcher starts afresh).
MARK_VERSION = 1
#: Snapshot ids a mark remembers at the most (about 40 bytes each when stored).
MAX_REMEMBERED = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def is_completed_snapshot(snapshot: Mapping[str, Any]) -> bool:
    """
    Return whether a listed snapshot is completed: ``completed`` (dedicated) or ``COMPLETED`` (flex).

    :param snapshot: a snapshot as Atlas listed it.
    """
    status = snapshot.get("status")
    return isinstance(status, str) and status.lower() == "completed"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class SnapshotMark:
    """
    The completed snapshots a watcher has seen, and the time at or before which every snapshot is old.

    :param seen: the ids seen, each with the time it was taken (ISO 8601, UTC).
    :param floor: snapshots taken at or before this time are old; ``None`` when nothing was forgotten.
    """

    seen: dict[str, str] = field(default_factory=dict)
    floor: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> SnapshotMark | None:
        """
        Return the mark stored as ``value``, or ``None`` when there is none or it is not one this version wrote.

        :param value: what :meth:`to_json` returned, as read back from the store.
        """
        if not isinstance(value, Mapping) or value.get("version") != MARK_VERSION:
            return None
        seen, floor = value.get("seen"), value.get("floor")
        if not isinstance(seen, Mapping) or not (floor is None or isinstance(floor, str)):
            return None
        return cls({str(key): str(taken) for key, taken in seen.items()}, floor)

    def to_json(self) -> dict[str, Any]:
        """Return the mark as JSON for a durable store (ids and times only, never a link)."""
        return {"version": MARK_VERSION, "seen": dict(self.seen), "floor": self.floor}

    def _floor_time(self) -> datetime | None:
        return parse_timestamp(self.floor) if self.floor else None

    def is_new(self, snapshot: Mapping[str, Any]) -> bool:
        """
        Return whether ``snapshot`` is a completed snapshot this mark has not seen.

        :param snapshot: a snapshot as Atlas listed it, dedicated or flex.
        """
        snapshot_id = snapshot.get("id")
        if not isinstance(snapshot_id, str) or not is_completed_snapshot(snapshot):
            return False
        if snapshot_id in self.seen:
            return False
        floor = self._floor_time()
        taken = snapshot_taken_at(snapshot)
        return floor is None or taken is None or taken > floor

    def new_snapshots(self, listing: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """
        Return the new completed snapshots of a listing, oldest first (each id once).

        :param listing: the snapshots as Atlas listed them, in any order.
        """
        found: dict[str, Mapping[str, Any]] = {}
        for snapshot in listing:
            if self.is_new(snapshot):
                found.setdefault(str(snapshot["id"]), snapshot)
        return sorted(found.values(), key=lambda snap: (snapshot_taken_at(snap) or _EPOCH, str(snap["id"])))

    def remember(self, snapshot: Mapping[str, Any]) -> None:
        """
        Remember one snapshot as seen, forgetting the oldest ids past :data:`MAX_REMEMBERED`.

        :param snapshot: a snapshot as Atlas listed it.
        """
        taken = snapshot_taken_at(snapshot) or _EPOCH
        self.seen[str(snapshot["id"])] = _iso(taken)
        if len(self.seen) <= MAX_REMEMBERED:
            return
        by_age = sorted(self.seen.items(), key=lambda item: parse_timestamp(item[1]) or _EPOCH)
        floor = self._floor_time()
        for snapshot_id, taken_text in by_age[: len(self.seen) - MAX_REMEMBERED]:
            del self.seen[snapshot_id]
            forgotten = parse_timestamp(taken_text) or _EPOCH
            floor = forgotten if floor is None or forgotten > floor else floor
        self.floor = _iso(floor) if floor is not None else None

    @classmethod
    def baseline(cls, listing: Iterable[Mapping[str, Any]]) -> SnapshotMark:
        """
        Return a mark that has seen every completed snapshot of ``listing`` (they are not announced).

        :param listing: the snapshots there when the watcher first looked.
        """
        mark = cls()
        for snapshot in listing:
            if is_completed_snapshot(snapshot) and isinstance(snapshot.get("id"), str):
                mark.remember(snapshot)
        return mark
