"""Check the bodies of the snapshot, export and collection-restore requests as the spec types them.

Errors use the codes the emulator uses for restore-job bodies: ``INVALID_JSON``,
``MISSING_ATTRIBUTE``, ``INVALID_ENUM_VALUE``, ``INVALID_ATTRIBUTE`` (all 400).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from airflow_provider_atlas_restore.testing.backup_records import BUCKET_PROVIDERS
from airflow_provider_atlas_restore.testing.errors import AtlasError
from airflow_provider_atlas_restore.testing.ids import CLUSTER_NAME_RE, OBJECT_ID_RE

__all__ = [
    "parse_bucket_body",
    "parse_collection_restore_body",
    "parse_export_body",
    "parse_retention_body",
    "parse_snapshot_body",
]

RETENTION_UNITS = {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}
INDEX_STRATEGIES = ("ALL", "NONE", "ALL_EXCEPT_TTL")
WRITE_STRATEGIES = ("CREATE_NEW", "OVERWRITE_EXISTING")
MAX_NAMESPACES = 100
_INT32_MAX = 2**31 - 1
_COLLECTION_RESTORE_FIELDS = frozenset(
    {
        *("collectionSuffix", "collections", "databaseSuffix", "databases", "indexStrategy"),
        *("oplogInc", "oplogTs", "pointInTimeUtcSeconds", "snapshotId", "targetClusterName"),
        *("targetGroupId", "writeStrategy"),
    }
)


def _missing(name: str) -> AtlasError:
    return AtlasError(400, "MISSING_ATTRIBUTE", f"The required attribute {name} was not specified.", [name])


def _invalid(name: str) -> AtlasError:
    return AtlasError(400, "INVALID_ATTRIBUTE", f"Invalid attribute {name} specified.", [name])


def _bad_enum(name: str, value: object) -> AtlasError:
    return AtlasError(
        400, "INVALID_ENUM_VALUE", f"An invalid enumeration value {value} was specified.", [str(value), name]
    )


def _json_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    if allow_empty and not raw.strip():
        return {}
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.") from None
    if not isinstance(body, dict):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.")
    return body


def _only(body: dict[str, Any], allowed: Iterable[str]) -> None:
    known = set(allowed)
    for name in body:
        if name not in known:
            raise _invalid(name)


def _int(body: dict[str, Any], name: str, low: int, high: int = _INT32_MAX) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(name)
    return value


def _object_id(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, str) or not OBJECT_ID_RE.match(value):
        raise _invalid(name)
    return value


def parse_snapshot_body(raw: bytes) -> dict[str, Any]:
    """Check a take-snapshot body: optional ``description`` (text), ``retentionInDays`` (at least 1).

    :param raw: the request body.
    """
    body = _json_object(raw, allow_empty=True)
    _only(body, ("description", "retentionInDays"))
    if body.get("description") is not None and not isinstance(body["description"], str):
        raise _invalid("description")
    _int(body, "retentionInDays", 1)
    return body


def parse_retention_body(raw: bytes) -> tuple[str, int]:
    """Check a change-retention body and return ``(retentionUnit, retentionValue)``, both required.

    :param raw: the request body.
    """
    body = _json_object(raw)
    _only(body, ("retentionUnit", "retentionValue"))
    unit = body.get("retentionUnit")
    if unit is None:
        raise _missing("retentionUnit")
    if unit not in RETENTION_UNITS:
        raise _bad_enum("retentionUnit", unit)
    if body.get("retentionValue") is None:
        raise _missing("retentionValue")
    value = _int(body, "retentionValue", 1)
    assert value is not None
    return str(unit), value


def parse_bucket_body(raw: bytes, *, aws_only: bool) -> dict[str, Any]:
    """Check a create-bucket body: the fields ``cloudProvider`` asks for (AWS only in 2023-01-01).

    :param raw: the request body.
    :param aws_only: the sunset 2023-01-01 version, which knows AWS buckets only.
    """
    body = _json_object(raw)
    provider = body.get("cloudProvider")
    if provider is None:
        raise _missing("cloudProvider")
    if provider not in (("AWS",) if aws_only else BUCKET_PROVIDERS):
        raise _bad_enum("cloudProvider", provider)
    if provider == "AWS":
        _only(body, ("cloudProvider", "bucketName", "iamRoleId", "requirePrivateNetworking"))
        _object_id(body, "iamRoleId", required=True)
        if not isinstance(body.get("requirePrivateNetworking", False), bool):
            raise _invalid("requirePrivateNetworking")
    else:
        allowed = ["cloudProvider", "bucketName", "roleId"]
        allowed += ["serviceUrl", "tenantId"] if provider == "AZURE" else []
        _only(body, allowed)
        _object_id(body, "roleId", required=True)
    if provider == "AZURE":
        url = body.get("serviceUrl")
        if url is None:
            raise _missing("serviceUrl")
        if not isinstance(url, str) or ".blob.core.windows.net" not in url or not 33 <= len(url) <= 2048:
            raise _invalid("serviceUrl")
        if body.get("bucketName") is None:
            body["bucketName"] = url.rstrip("/").rsplit("/", 1)[-1]
    name = body.get("bucketName")
    if name is None:
        raise _missing("bucketName")
    if not isinstance(name, str) or not 3 <= len(name) <= 63:
        raise _invalid("bucketName")
    return body


def parse_export_body(raw: bytes) -> dict[str, Any]:
    """Check a create-export-job body: ``snapshotId``, ``exportBucketId``, optional ``customData``.

    :param raw: the request body.
    """
    body = _json_object(raw)
    _only(body, ("snapshotId", "exportBucketId", "customData"))
    _object_id(body, "snapshotId", required=True)
    _object_id(body, "exportBucketId", required=True)
    custom = body.get("customData")
    if custom is not None:
        valid = isinstance(custom, list) and all(
            isinstance(item, dict)
            and set(item) <= {"key", "value"}
            and all(isinstance(value, str) for value in item.values())
            for item in custom
        )
        if not valid:
            raise _invalid("customData")
    return body


def _namespaces(body: dict[str, Any], name: str, *, collections: bool) -> list[dict[str, str]]:
    entries = body.get(name)
    if entries is None:
        return []
    if not isinstance(entries, list) or len(entries) > MAX_NAMESPACES:
        raise _invalid(name)
    for entry in entries:
        if not isinstance(entry, dict) or not set(entry) <= {"sourceNamespace", "targetNamespace"}:
            raise _invalid(name)
        source = entry.get("sourceNamespace")
        if source is None:
            raise _missing(f"{name}.sourceNamespace")
        for value in (source, entry.get("targetNamespace")):
            if value is None:
                continue
            if not isinstance(value, str) or not value or ("." in value) != collections:
                raise _invalid(f"{name}.sourceNamespace")
    return entries


def parse_collection_restore_body(raw: bytes) -> dict[str, Any]:
    """Check a create-collection-restore body as ``ApiAtlasCollectionRestoreJobRequest`` types it.

    Required: ``targetClusterName``, ``targetGroupId``, ``indexStrategy``, ``writeStrategy``, one
    source (``snapshotId``, ``pointInTimeUtcSeconds``, or ``oplogTs`` with ``oplogInc``), and at
    least one of ``databases`` / ``collections`` (up to 100 each).

    :param raw: the request body.
    """
    body = _json_object(raw)
    _only(body, _COLLECTION_RESTORE_FIELDS)
    target = body.get("targetClusterName")
    if target is None:
        raise _missing("targetClusterName")
    if not isinstance(target, str) or not CLUSTER_NAME_RE.match(target):
        raise _invalid("targetClusterName")
    _object_id(body, "targetGroupId", required=True)
    for name, allowed in (("indexStrategy", INDEX_STRATEGIES), ("writeStrategy", WRITE_STRATEGIES)):
        if body.get(name) is None:
            raise _missing(name)
        if body[name] not in allowed:
            raise _bad_enum(name, body[name])
    snapshot = _object_id(body, "snapshotId", required=False)
    moment = _int(body, "pointInTimeUtcSeconds", 1)
    oplog_ts, oplog_inc = _int(body, "oplogTs", 1), _int(body, "oplogInc", 1)
    sources = [snapshot is not None, moment is not None, oplog_ts is not None or oplog_inc is not None]
    if sum(sources) != 1:
        raise AtlasError(
            400,
            "INVALID_ATTRIBUTE",
            "Specify exactly one of snapshotId, pointInTimeUtcSeconds, or oplogTs with oplogInc.",
            ["snapshotId"],
        )
    if sources[2] and (oplog_ts is None or oplog_inc is None):
        raise _missing("oplogInc" if oplog_inc is None else "oplogTs")
    databases = _namespaces(body, "databases", collections=False)
    collections = _namespaces(body, "collections", collections=True)
    if not databases and not collections:
        raise _missing("collections")
    for name in ("databaseSuffix", "collectionSuffix"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise _invalid(name)
    return body
