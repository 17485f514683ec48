"""
Which snapshot a task's ``snapshot_id`` names: an id, ``"latest"`` or a take-snapshot task's output.

``"latest"`` resolves to the newest completed snapshot, fallback ones passed over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.api.validation import OBJECT_ID_PATTERN, validate_object_id
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp

#: ``snapshot_id`` value that picks the cluster's newest completed snapshot when the task runs.
LATEST_SNAPSHOT = "latest"
#: The key of a take-snapshot task's XCom value (what an ``XComArg`` renders to) holding the id.
SNAPSHOT_ID_KEY = "snapshot_id"
_ACCEPTED = (
    "a snapshot id (24 lowercase hexadecimal characters), 'latest', or a take-snapshot task's "
    "output (a mapping such as {'snapshot_id': '5b6212af90dc76637950a2c6', ...}, what its XComArg renders)"
)

#: The ``snapshotType`` of a snapshot Atlas took as a fallback, which it warns may hold inconsistent data.
FALLBACK_SNAPSHOT_TYPE = "fallback"


def snapshot_id_from_input(
    value: Any, *, parameter: str = "snapshot_id", cluster_name: Any = None, allow_latest: bool = True
) -> str:
    """
    Return the snapshot id (or ``"latest"``) that a task's rendered ``snapshot_id`` names, checked strictly.

    Accepts an id, ``"latest"``, or a take-snapshot task's output: a mapping whose
    ``snapshot_id`` is an id; when the mapping names its ``cluster_name`` too, it must be the
    task's cluster. Anything else raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasInputError`
    saying what was given and what is accepted.

    :param value: the rendered ``snapshot_id``.
    :param parameter: the parameter name, for the error message.
    :param cluster_name: the task's cluster, checked against the mapping's ``cluster_name``.
    :param allow_latest: whether ``"latest"`` is accepted (not where a task acts on one given
        snapshot, such as a delete).
    """
    accepted = _ACCEPTED if allow_latest else _ACCEPTED.replace(", 'latest',", ",")
    if isinstance(value, Mapping):
        if SNAPSHOT_ID_KEY not in value:
            raise AtlasInputError(
                f"{parameter} is a mapping without a {SNAPSHOT_ID_KEY!r} key (keys: "
                f"{', '.join(map(repr, sorted(map(str, value)))) or 'none'}): it must be {accepted}."
            )
        inner = value[SNAPSHOT_ID_KEY]
        if not isinstance(inner, str) or not OBJECT_ID_PATTERN.fullmatch(inner):
            raise AtlasInputError(
                f"{parameter}[{SNAPSHOT_ID_KEY!r}]={inner!r} is not a valid Atlas snapshot id: the "
                f"mapping must hold one (24 lowercase hexadecimal characters); {parameter} must be {accepted}."
            )
        source = value.get("cluster_name")
        if source is not None and cluster_name is not None and source != cluster_name:
            raise AtlasInputError(
                f"{parameter} names snapshot {inner} of cluster {source!r}, but the task's cluster is "
                f"{cluster_name!r}: the snapshot must be one of the task's cluster."
            )
        return inner
    if value == LATEST_SNAPSHOT and allow_latest:
        return LATEST_SNAPSHOT
    if value == LATEST_SNAPSHOT:
        raise AtlasInputError(f"{parameter}='latest' is not accepted here: it must be {accepted}.")
    if isinstance(value, str) and value.lstrip().startswith("{"):
        raise AtlasInputError(
            f"{parameter}={value!r} is a mapping rendered as text: pass the take-snapshot task's "
            "XComArg (task.output) itself, or render_template_as_native_obj=True on the DAG, or "
            f"\"{{{{ ti.xcom_pull(task_ids='...')['{SNAPSHOT_ID_KEY}'] }}}}\"; it must be {accepted}."
        )
    if not isinstance(value, str):
        raise AtlasInputError(f"{parameter}={value!r} is a {type(value).__name__}: it must be {accepted}.")
    return validate_object_id(value, parameter)


#: Where a snapshot says when it was taken: ``createdAt`` (dedicated), else a flex snapshot's times.
_TAKEN_FIELDS = ("createdAt", "startTime", "scheduledTime", "finishTime")


def snapshot_taken_at(snapshot: Mapping[str, Any]) -> datetime | None:
    """
    Return when a snapshot was taken: ``createdAt``, else a flex snapshot's ``startTime``, ``scheduledTime`` or ``finishTime``.

    :param snapshot: a snapshot as Atlas listed it, dedicated or flex.
    """
    for key in _TAKEN_FIELDS:
        moment = parse_timestamp(snapshot.get(key))
        if moment is not None:
            return moment
    return None


def _taken_text(snapshot: Mapping[str, Any]) -> Any:
    return next((snapshot[key] for key in _TAKEN_FIELDS if snapshot.get(key)), None)


def _is_completed(snapshot: Mapping[str, Any]) -> bool:
    """Return whether the snapshot is complete: ``completed`` (dedicated) or ``COMPLETED`` (flex)."""
    status = snapshot.get("status")
    return isinstance(status, str) and status.lower() == "completed"


def _taken(snapshot: Mapping[str, Any]) -> datetime:
    return snapshot_taken_at(snapshot) or datetime.min.replace(tzinfo=timezone.utc)


def _is_fallback(snapshot: Mapping[str, Any]) -> bool:
    return snapshot.get("snapshotType") == FALLBACK_SNAPSHOT_TYPE


def _named(snapshots: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{snapshot.get('id')} (taken {_taken_text(snapshot)})" for snapshot in snapshots)


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
        sentence = (
            f"Chose {kind} {chosen.get('id')} of cluster {cluster_name}, taken {_taken_text(chosen)}: {why}"
        )
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
    time taken (``createdAt``; a flex snapshot's ``startTime``, ``scheduledTime`` or
    ``finishTime``). The list's order is never relied on: dedicated clusters list newest first,
    flex clusters oldest first.

    :param snapshots: snapshots as Atlas lists them (any order), dedicated or flex.
    :param allow_fallback: let a ``snapshotType: fallback`` snapshot be chosen.
    """
    completed = sorted(
        (s for s in snapshots if _is_completed(s) and snapshot_taken_at(s) is not None),
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
