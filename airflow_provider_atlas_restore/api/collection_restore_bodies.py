"""
The body of a collection-level restore (``POST .../collectionRestoreJobs``), checked before it is sent.

Namespaces follow MongoDB's naming rules: a database name is 1 to 63 characters without
``/\\. "$*<>:|?``; a collection namespace is ``database.collection``, the collection part
non-empty, without ``$``, not a ``system.`` collection, 255 bytes at most in all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_atlas_restore.api.validation import (
    INT32_MAX,
    validate_choice,
    validate_cluster_name,
    validate_flag,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError

INDEX_STRATEGIES = ("ALL", "NONE", "ALL_EXCEPT_TTL")
WRITE_STRATEGIES = ("CREATE_NEW", "OVERWRITE_EXISTING")
#: The most ``databases`` and the most ``collections`` one job may name (the spec's ``maxItems``).
MAX_NAMESPACES = 100
_DATABASE_NAME = re.compile(r'^[^/\\. "$*<>:|?\x00]{1,63}$')
_MAX_NAMESPACE_BYTES = 255
_SUFFIX = re.compile(r'^[^/\\ "$*<>:|?\x00]{0,32}$')


@dataclass(frozen=True)
class NamespaceMapping:
    """
    One database or collection to restore, and where to (the same namespace when ``target`` is None).

    :param source: ``database`` or ``database.collection`` in the snapshot.
    :param target: its namespace on the target cluster.
    """

    source: str
    target: str | None = None

    @classmethod
    def of(cls, value: Any, parameter: str) -> NamespaceMapping:
        """
        Read a mapping from a ``NamespaceMapping``, a namespace, or a ``{"source": ..., "target": ...}`` dict.

        :param value: what the user gave.
        :param parameter: the parameter name, for the error message.
        """
        if isinstance(value, NamespaceMapping):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping) and set(value) <= {"source", "target"} and "source" in value:
            return cls(value["source"], value.get("target"))
        raise AtlasInputError(
            f"{parameter} entries must be a namespace or a {{'source': ..., 'target': ...}} dict, "
            f"not {value!r}."
        )


def validate_database_name(value: Any, parameter: str) -> str:
    """
    Return ``value`` when it is a MongoDB database name.

    :param value: the name to check.
    :param parameter: where it was given, for the error message.
    """
    if not isinstance(value, str) or not _DATABASE_NAME.fullmatch(value):
        raise AtlasInputError(
            f"{parameter}={value!r} is not a database name: it must be 1 to 63 characters, none of "
            "/\\. \"$*<>:|? (for example 'sales')."
        )
    return value


def validate_collection_namespace(value: Any, parameter: str) -> str:
    """
    Return ``value`` when it is a collection namespace ``database.collection``.

    :param value: the namespace to check.
    :param parameter: where it was given, for the error message.
    """
    database, dot, collection = value.partition(".") if isinstance(value, str) else ("", "", "")
    valid = (
        dot == "."
        and _DATABASE_NAME.fullmatch(database) is not None
        and collection != ""
        and "$" not in collection
        and "\x00" not in collection
        and not collection.startswith("system.")
        and len(value.encode()) <= _MAX_NAMESPACE_BYTES
    )
    if not valid:
        raise AtlasInputError(
            f"{parameter}={value!r} is not a collection namespace: it must be 'database.collection' "
            "(for example 'sales.orders'), the collection without '$' and not a system. collection, "
            f"{_MAX_NAMESPACE_BYTES} bytes at most."
        )
    return str(value)


def _entries(values: Sequence[Any] | None, parameter: str, *, collections: bool) -> list[dict[str, str]]:
    if values is None:
        return []
    if isinstance(values, (str, Mapping)) or not isinstance(values, Sequence):
        raise AtlasInputError(f"{parameter} must be a list of namespaces or {{'source', 'target'}} dicts.")
    if len(values) > MAX_NAMESPACES:
        raise AtlasInputError(
            f"{parameter} lists {len(values)} namespaces: Atlas accepts at most {MAX_NAMESPACES}."
        )
    check = validate_collection_namespace if collections else validate_database_name
    entries, seen = [], set()
    for index, value in enumerate(values):
        mapping = NamespaceMapping.of(value, parameter)
        source = check(mapping.source, f"{parameter}[{index}].source")
        if source in seen:
            raise AtlasInputError(f"{parameter} names {source!r} twice: each source namespace once.")
        seen.add(source)
        entry = {"sourceNamespace": source}
        if mapping.target is not None:
            entry["targetNamespace"] = check(mapping.target, f"{parameter}[{index}].target")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class CollectionRestoreSpec:
    """
    A collection-level restore: which databases and collections, from which backup, to which cluster.

    The source is exactly one of ``snapshot_id``, ``point_in_time_utc_seconds``, or ``oplog_ts``
    with ``oplog_inc``. ``write_strategy="OVERWRITE_EXISTING"`` drops and replaces the target
    namespaces, so it needs ``confirm_overwrite=True``.

    :param target_cluster_name: the cluster to restore into.
    :param target_group_id: the project of the target cluster.
    :param collections: collection namespaces (``db.collection``), each a namespace, a
        ``{"source", "target"}`` dict or a :class:`NamespaceMapping`; at most 100.
    :param databases: whole databases, given the same ways; at most 100.
    :param snapshot_id: the snapshot to restore from.
    :param point_in_time_utc_seconds: the moment to restore to, seconds since the epoch.
    :param oplog_ts: the oplog timestamp to restore to; goes with ``oplog_inc``.
    :param oplog_inc: the operation number within ``oplog_ts``.
    :param write_strategy: ``CREATE_NEW`` (default) or ``OVERWRITE_EXISTING``.
    :param index_strategy: ``ALL`` (default), ``NONE`` or ``ALL_EXCEPT_TTL``.
    :param database_suffix: appended to restored database names.
    :param collection_suffix: appended to restored collection names.
    :param confirm_overwrite: say yes to ``OVERWRITE_EXISTING``.
    """

    target_cluster_name: str
    target_group_id: str
    collections: Sequence[Any] | None = None
    databases: Sequence[Any] | None = None
    snapshot_id: str | None = None
    point_in_time_utc_seconds: int | None = None
    oplog_ts: int | None = None
    oplog_inc: int | None = None
    write_strategy: str = "CREATE_NEW"
    index_strategy: str = "ALL"
    database_suffix: str | None = None
    collection_suffix: str | None = None
    confirm_overwrite: bool = False

    def to_body(self) -> dict[str, Any]:
        """Return the JSON body of the create request, or raise :class:`AtlasInputError` naming what is wrong."""
        write = validate_choice(self.write_strategy, "write_strategy", WRITE_STRATEGIES)
        if write == "OVERWRITE_EXISTING" and not validate_flag(self.confirm_overwrite, "confirm_overwrite"):
            raise AtlasInputError(
                "write_strategy='OVERWRITE_EXISTING' drops and replaces the target databases and "
                "collections (writes to them during the restore are lost): pass confirm_overwrite=True "
                "to allow it, or use write_strategy='CREATE_NEW'."
            )
        body: dict[str, Any] = {
            "targetClusterName": validate_cluster_name(self.target_cluster_name, "target_cluster_name"),
            "targetGroupId": validate_object_id(self.target_group_id, "target_group_id"),
            "writeStrategy": write,
            "indexStrategy": validate_choice(self.index_strategy, "index_strategy", INDEX_STRATEGIES),
        }
        body.update(self._source())
        databases = _entries(self.databases, "databases", collections=False)
        collections = _entries(self.collections, "collections", collections=True)
        if not databases and not collections:
            raise AtlasInputError(
                "A collection restore needs at least one of collections (such as ['sales.orders']) "
                "or databases (such as ['sales'])."
            )
        if databases:
            body["databases"] = databases
        if collections:
            body["collections"] = collections
        for name, value in (
            ("databaseSuffix", self.database_suffix),
            ("collectionSuffix", self.collection_suffix),
        ):
            if value is not None:
                if not isinstance(value, str) or not _SUFFIX.fullmatch(value):
                    parameter = "database_suffix" if name == "databaseSuffix" else "collection_suffix"
                    raise AtlasInputError(
                        f'{parameter}={value!r} is not allowed: up to 32 characters, none of /\\ "$*<>:|?.'
                    )
                body[name] = value
        return body

    def _source(self) -> dict[str, Any]:
        uses_oplog = self.oplog_ts is not None or self.oplog_inc is not None
        given = [self.snapshot_id is not None, self.point_in_time_utc_seconds is not None, uses_oplog]
        if sum(given) != 1:
            raise AtlasInputError(
                "A collection restore restores from exactly one of snapshot_id, point_in_time_utc_seconds, "
                f"or oplog_ts with oplog_inc ({sum(given)} given)."
            )
        if self.snapshot_id is not None:
            return {"snapshotId": validate_object_id(self.snapshot_id, "snapshot_id")}
        # Imported here: the restore-job bodies are not needed to check a snapshot's restore when a
        # DAG file is parsed (benchmark figure 4p).
        from airflow_provider_atlas_restore.api.bodies import EARLIEST_POINT_IN_TIME

        if self.point_in_time_utc_seconds is not None:
            seconds = validate_int_range(
                self.point_in_time_utc_seconds, "point_in_time_utc_seconds", EARLIEST_POINT_IN_TIME, INT32_MAX
            )
            return {"pointInTimeUtcSeconds": seconds}
        if self.oplog_ts is None or self.oplog_inc is None:
            raise AtlasInputError("oplog_ts and oplog_inc go together: give both, or neither.")
        return {
            "oplogTs": validate_int_range(self.oplog_ts, "oplog_ts", EARLIEST_POINT_IN_TIME, INT32_MAX),
            "oplogInc": validate_int_range(self.oplog_inc, "oplog_inc", 1, INT32_MAX),
        }
