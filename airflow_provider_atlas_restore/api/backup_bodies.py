"""
The bodies of on-demand snapshots, retention changes and export jobs, checked before they are sent.

Collection restores have their own module (:mod:`.collection_restore_bodies`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_atlas_restore.api.validation import (
    INT32_MAX,
    validate_choice,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError

#: ``retentionUnit`` of a snapshot's retention change: upper case, unlike the backup schedule's.
RETENTION_UNITS = ("DAYS", "WEEKS", "MONTHS", "YEARS")
#: The longest ``description`` sent with an on-demand snapshot (Atlas names no limit; a bound is kept).
MAX_DESCRIPTION_LENGTH = 1_000
#: The most ``custom_data`` entries of an export job, and the longest key or value (bounds kept here).
MAX_CUSTOM_DATA_ITEMS = 50
MAX_CUSTOM_DATA_LENGTH = 1_000


@dataclass(frozen=True)
class OnDemandSnapshotSpec:
    """
    An on-demand snapshot to take: ``POST .../backup/snapshots``.

    :param description: what the snapshot is for, shown in Atlas.
    :param retention_in_days: days Atlas keeps it, at least 1 (the Atlas CLI's default is 1).
    """

    description: str | None = None
    retention_in_days: int = 1

    def to_body(self) -> dict[str, Any]:
        """Return the JSON body, or raise :class:`AtlasInputError` naming what is wrong."""
        body: dict[str, Any] = {
            "retentionInDays": validate_int_range(self.retention_in_days, "retention_in_days", 1, INT32_MAX)
        }
        if self.description is not None:
            if not isinstance(self.description, str) or len(self.description) > MAX_DESCRIPTION_LENGTH:
                raise AtlasInputError(
                    f"description must be text of at most {MAX_DESCRIPTION_LENGTH} characters, "
                    f"not {type(self.description).__name__} of length {len(str(self.description))}."
                )
            body["description"] = self.description
        return body


@dataclass(frozen=True)
class SnapshotRetentionSpec:
    """
    A snapshot's new retention: ``PATCH .../backup/snapshots/{snapshotId}``.

    :param retention_value: how many units Atlas keeps the snapshot, at least 1.
    :param retention_unit: ``DAYS``, ``WEEKS``, ``MONTHS`` or ``YEARS`` (upper case).
    """

    retention_value: int
    retention_unit: str = "DAYS"

    def to_body(self) -> dict[str, Any]:
        """Return the JSON body, or raise :class:`AtlasInputError` naming what is wrong."""
        return {
            "retentionUnit": validate_choice(self.retention_unit, "retention_unit", RETENTION_UNITS),
            "retentionValue": validate_int_range(self.retention_value, "retention_value", 1, INT32_MAX),
        }


def _custom_data(value: Any) -> list[dict[str, str]]:
    """Return ``customData`` entries from a mapping of text to text."""
    if not isinstance(value, Mapping):
        raise AtlasInputError(
            f"custom_data must be a dict of text keys to text values, not {type(value).__name__}."
        )
    if len(value) > MAX_CUSTOM_DATA_ITEMS:
        raise AtlasInputError(
            f"custom_data has {len(value)} entries: at most {MAX_CUSTOM_DATA_ITEMS} are allowed."
        )
    entries = []
    for key, item in value.items():
        valid = (
            isinstance(key, str)
            and isinstance(item, str)
            and 0 < len(key) <= MAX_CUSTOM_DATA_LENGTH
            and len(item) <= MAX_CUSTOM_DATA_LENGTH
        )
        if not valid:
            raise AtlasInputError(
                f"custom_data[{key!r}] is not allowed: keys must be non-empty text and values text, "
                f"each at most {MAX_CUSTOM_DATA_LENGTH} characters."
            )
        entries.append({"key": key, "value": item})
    return entries


@dataclass(frozen=True)
class ExportJobSpec:
    """
    A snapshot export into an export bucket: ``POST .../backup/exports``.

    :param snapshot_id: the completed snapshot to export.
    :param export_bucket_id: the export bucket's id (its ``_id``).
    :param custom_data: text keys and values for the metadata file Atlas writes beside the export.
    """

    snapshot_id: str
    export_bucket_id: str
    custom_data: Mapping[str, str] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        """Return the JSON body, or raise :class:`AtlasInputError` naming what is wrong."""
        body: dict[str, Any] = {
            "snapshotId": validate_object_id(self.snapshot_id, "snapshot_id"),
            "exportBucketId": validate_object_id(self.export_bucket_id, "export_bucket_id"),
        }
        entries = _custom_data(self.custom_data)
        if entries:
            body["customData"] = entries
        return body


def validate_custom_data(value: Any) -> dict[str, str]:
    """
    Return ``custom_data`` as a dict when it is text keys to text values within the bounds above.

    :param value: what the user gave (``None`` is no custom data).
    """
    if value is None:
        return {}
    _custom_data(value)
    return dict(value)
