"""The body of a new restore job, checked against what each delivery type needs before it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_atlas_restore.api.validation import (
    DELIVERY_TYPES,
    INT32_MAX,
    validate_choice,
    validate_cluster_name,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError

#: The earliest point in time Atlas accepts: 2008-01-01T00:00:00Z, in seconds since the epoch.
EARLIEST_POINT_IN_TIME = 1_199_145_600


#: The JSON name in a create request of each :class:`RestoreJobSpec` field.
BODY_FIELD_NAMES = {
    "delivery_type": "deliveryType",
    "snapshot_id": "snapshotId",
    "target_cluster_name": "targetClusterName",
    "target_group_id": "targetGroupId",
    "point_in_time_utc_seconds": "pointInTimeUTCSeconds",
    "oplog_ts": "oplogTs",
    "oplog_inc": "oplogInc",
}


@dataclass(frozen=True)
class RestoreJobSpec:
    """
    What to restore and where: the arguments of a new restore job, checked by :meth:`to_body`.

    - ``download``: ``snapshot_id``; no target.
    - ``automated``: ``snapshot_id``, ``target_cluster_name`` and ``target_group_id``.
    - ``pointInTime``: the target, and either ``point_in_time_utc_seconds`` or ``oplog_ts``
      with ``oplog_inc`` (not both kinds); ``snapshot_id`` is optional.

    Automated and point-in-time restores overwrite the target cluster's data.

    :param delivery_type: ``download``, ``automated`` or ``pointInTime``.
    :param snapshot_id: the snapshot to restore.
    :param target_cluster_name: the cluster to restore into.
    :param target_group_id: the project of the target cluster.
    :param point_in_time_utc_seconds: the moment to restore to, seconds since the epoch.
    :param oplog_ts: the oplog timestamp (seconds) to restore to; goes with ``oplog_inc``.
    :param oplog_inc: the operation number within ``oplog_ts``.
    """

    delivery_type: str
    snapshot_id: str | None = None
    target_cluster_name: str | None = None
    target_group_id: str | None = None
    point_in_time_utc_seconds: int | None = None
    oplog_ts: int | None = None
    oplog_inc: int | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> RestoreJobSpec:
        """
        Read the spec back from a create request's JSON body (as the emulator receives it); not checked.

        :param body: the request body, with Atlas's field names.
        """
        values: dict[str, Any] = {name: body.get(json_name) for name, json_name in BODY_FIELD_NAMES.items()}
        return cls(**values)

    def with_snapshot(self, snapshot_id: str) -> RestoreJobSpec:
        """
        Return this spec restoring ``snapshot_id``, such as the newest completed snapshot looked up later.

        :param snapshot_id: the snapshot to restore.
        """
        return replace(self, snapshot_id=snapshot_id)

    def check(self, *, snapshot_chosen_later: bool = False) -> RestoreJobSpec:
        """
        Return this spec when it is complete and valid, or raise :class:`AtlasInputError` naming what is wrong.

        :param snapshot_chosen_later: check everything but the snapshot, which the caller looks up
            afterwards (such as the newest completed one).
        """
        self.to_body(snapshot_chosen_later=snapshot_chosen_later)
        return self

    def to_body(self, *, snapshot_chosen_later: bool = False) -> dict[str, Any]:
        """
        Return the JSON body of the create request, or raise :class:`AtlasInputError` naming what is wrong.

        :param snapshot_chosen_later: check everything but the snapshot, which the caller looks up
            afterwards; the body then has no ``snapshotId``.
        """
        kind = validate_choice(self.delivery_type, "delivery_type", DELIVERY_TYPES)
        body: dict[str, Any] = {"deliveryType": kind}
        has_target = self.target_cluster_name is not None or self.target_group_id is not None
        has_moment = any(
            v is not None for v in (self.point_in_time_utc_seconds, self.oplog_ts, self.oplog_inc)
        )
        if kind == "download" and (has_target or has_moment):
            raise AtlasInputError(
                "A download restore takes only snapshot_id: target_cluster_name, target_group_id and the "
                "point-in-time fields belong to automated and pointInTime restores."
            )
        if kind == "automated" and has_moment:
            raise AtlasInputError(
                "An automated restore restores a whole snapshot: point_in_time_utc_seconds, oplog_ts and "
                "oplog_inc belong to pointInTime restores."
            )
        snapshot_needed = kind in ("download", "automated") and not snapshot_chosen_later
        if self.snapshot_id is not None or snapshot_needed:
            if self.snapshot_id is None:
                raise AtlasInputError(
                    f"{delivery_type_with_article(kind)} restore needs snapshot_id: the snapshot to restore."
                )
            body["snapshotId"] = validate_object_id(self.snapshot_id, "snapshot_id")
        if kind in ("automated", "pointInTime"):
            if self.target_cluster_name is None or self.target_group_id is None:
                raise AtlasInputError(
                    f"{delivery_type_with_article(kind)} restore needs target_cluster_name and target_group_id: the cluster whose "
                    "data it replaces."
                )
            body["targetClusterName"] = validate_cluster_name(self.target_cluster_name, "target_cluster_name")
            body["targetGroupId"] = validate_object_id(self.target_group_id, "target_group_id")
        if kind == "pointInTime":
            body.update(_point_in_time(self.point_in_time_utc_seconds, self.oplog_ts, self.oplog_inc))
        return body


def restore_job_spec(delivery_type: str | RestoreJobSpec, **arguments: Any) -> RestoreJobSpec:
    """
    Return ``delivery_type`` when it is a spec already, else the spec built from the keyword arguments.

    :param delivery_type: a :class:`RestoreJobSpec`, or ``download``, ``automated`` or ``pointInTime``.
    :param arguments: the other spec fields (``snapshot_id``, ``target_cluster_name``...); ``None``
        when not given. Only ``None`` is accepted beside a spec.
    """
    if isinstance(delivery_type, RestoreJobSpec):
        given = sorted(name for name, value in arguments.items() if value is not None)
        if given:
            raise AtlasInputError(
                f"Pass either a RestoreJobSpec or the restore job's arguments, not both: {', '.join(given)} "
                "given beside a spec."
            )
        return delivery_type
    return RestoreJobSpec(delivery_type, **arguments)


def build_restore_job_body(
    delivery_type: str, *, snapshot_chosen_later: bool = False, **arguments: Any
) -> dict[str, Any]:
    """
    Return the JSON body of a restore job: :meth:`RestoreJobSpec.to_body` (kept for existing callers).

    :param delivery_type: ``download``, ``automated`` or ``pointInTime``.
    :param snapshot_chosen_later: check everything but the snapshot; the body then has no ``snapshotId``.
    :param arguments: the other :class:`RestoreJobSpec` fields, such as ``snapshot_id``.
    """
    return RestoreJobSpec(delivery_type, **arguments).to_body(snapshot_chosen_later=snapshot_chosen_later)


def delivery_type_with_article(kind: str) -> str:
    """
    Return the delivery type after its article, to start a sentence: ``An automated``, ``A download``.

    :param kind: the delivery type.
    """
    return f"An {kind}" if kind[0] in "aeiou" else f"A {kind}"


def _point_in_time(seconds: int | None, oplog_ts: int | None, oplog_inc: int | None) -> dict[str, int]:
    uses_oplog = oplog_ts is not None or oplog_inc is not None
    if seconds is not None and uses_oplog:
        raise AtlasInputError(
            "A pointInTime restore takes either point_in_time_utc_seconds or oplog_ts with oplog_inc, "
            "not both."
        )
    if seconds is not None:
        value = validate_int_range(seconds, "point_in_time_utc_seconds", EARLIEST_POINT_IN_TIME, INT32_MAX)
        return {"pointInTimeUTCSeconds": value}
    if oplog_ts is None or oplog_inc is None:
        raise AtlasInputError(
            "A pointInTime restore needs point_in_time_utc_seconds, or oplog_ts together with oplog_inc."
        )
    return {
        "oplogTs": validate_int_range(oplog_ts, "oplog_ts", EARLIEST_POINT_IN_TIME, INT32_MAX),
        "oplogInc": validate_int_range(oplog_inc, "oplog_inc", 1, INT32_MAX),
    }
