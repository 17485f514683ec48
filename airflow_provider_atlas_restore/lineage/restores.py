"""
The lineage of an export, a restore job and a collection restore: their Atlas side, the export's event extra.

Pure reading of what the operators already have (their XCom value or the job Atlas returned);
the only side effect is the hook lineage report, which never fails a task. docs/lineage.md has
the rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.lineage.assets import add_event_extra, add_to_aliases, export_asset_uri
from airflow_provider_atlas_restore.lineage.facts import AtlasSource
from airflow_provider_atlas_restore.lineage.hook_lineage import report_cluster_restore, report_export

__all__ = [
    "collection_restore_source",
    "export_extra",
    "export_source",
    "export_stable_uri",
    "record_export",
    "record_restore",
    "restore_job_source",
    "restore_openlineage",
]

log = logging.getLogger(__name__)

#: The snapshot-time segment of an export prefix (``2026-08-10T0327``, UTC, to the minute).
_PREFIX_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{4}$")
#: ``exported_snapshots/<org id>/<project id>/<cluster>``: the part of a prefix every export of a cluster shares.
_STABLE_SEGMENTS = 4


def _prefix_parts(value: Mapping[str, Any]) -> list[str] | None:
    """Return the export prefix's segments when it has Atlas's shape (docs/lineage.md), else ``None``."""
    prefix = str(value.get("prefix") or "").strip("/")
    parts = prefix.split("/")
    if len(parts) != _STABLE_SEGMENTS + 2 or parts[3] != value.get("cluster_name"):
        return None
    return parts


def _prefix_time(value: Mapping[str, Any]) -> datetime | None:
    parts = _prefix_parts(value)
    if parts is None or not _PREFIX_TIME.match(parts[4]):
        return None
    return datetime.strptime(parts[4], "%Y-%m-%dT%H%M").replace(tzinfo=timezone.utc)


def export_stable_uri(value: Mapping[str, Any]) -> str | None:
    """
    Return the asset URI every export of the cluster into this bucket shares, or ``None`` when not known.

    ``s3://bucket/exported_snapshots/<org id>/<project id>/<cluster>/`` for an export at
    ``s3://bucket/exported_snapshots/<org id>/<project id>/<cluster>/<time>/<epoch>``.

    :param value: the export operator's XCom value (``uri``, ``prefix``, ``cluster_name``).
    """
    uri, parts = value.get("uri"), _prefix_parts(value)
    if not uri or parts is None or "://" not in str(uri):
        return None
    scheme, _, rest = str(uri).partition("://")
    bucket = rest.partition("/")[0]
    return export_asset_uri(f"{scheme}://{bucket}", "/".join(parts[:_STABLE_SEGMENTS]))


def export_source(value: Mapping[str, Any]) -> AtlasSource:
    """
    Return the Atlas side of a finished export: cluster, snapshot (time to the minute, from the prefix), job.

    :param value: the export operator's XCom value.
    """
    return AtlasSource(
        group_id=value.get("group_id"),
        cluster_name=value.get("cluster_name"),
        snapshot_id=value.get("snapshot_id"),
        snapshot_time=_prefix_time(value),
        job_id=value.get("export_job_id"),
        job_kind="export_job",
    )


def export_extra(value: Mapping[str, Any], source: AtlasSource) -> dict[str, Any]:
    """
    Return the extra of an export's asset event: where the export is, and the cluster, snapshot and job.

    :param value: the export operator's XCom value.
    :param source: its Atlas side (see :func:`export_source`).
    """
    return {
        "export_uri": value.get("uri"),
        "export_prefix": value.get("prefix"),
        "asset_uri": export_stable_uri(value),
        **source.to_extra(),
    }


def record_export(
    context: Mapping[str, Any], outlets: Sequence[Any] | None, hook: Any, value: Mapping[str, Any]
) -> AtlasSource | None:
    """
    Put a successful export's extra on its outlets' events and report its hook lineage; return its source.

    Asset outlets get the extra on the event Airflow emits for them; through each asset alias
    outlet (the one the operator declares when no ``outlets`` are given) the run emits an event
    of the export's stable asset with that extra. Nothing is recorded (``None``) for an export
    not ``Successful`` (``wait_for_completion=False``).

    :param context: the task's context.
    :param outlets: the task's outlets.
    :param hook: the Atlas hook that did the work (the hook lineage context).
    :param value: the export operator's XCom value.
    """
    if value.get("state") != "Successful":
        return None
    source = export_source(value)
    extra = export_extra(value, source)
    add_event_extra(context, outlets, extra)
    add_to_aliases(context, outlets, extra["asset_uri"], extra)
    if value.get("uri"):
        try:
            report_export(hook, source, str(value["uri"]))
        except Exception as error:  # a side channel: the export is done, the task must not fail here
            log.warning("Hook lineage of the export not reported: %s", error)
    return source


def _job_time(job: Mapping[str, Any]) -> datetime | None:
    text = job.get("timestamp")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def restore_job_source(job: Mapping[str, Any], job_id: str, group_id: str, task: Any) -> AtlasSource:
    """
    Return the Atlas side of a restore job: its source, snapshot and, unless a download, its target cluster.

    :param job: the restore job as Atlas returned it (``snapshotId``, ``timestamp``).
    :param job_id: the job's id.
    :param group_id: the source project.
    :param task: the create-restore task (its ``cluster_name``, ``delivery_type``,
        ``target_cluster_name`` and ``target_group_id``, rendered).
    """
    into_cluster = task.delivery_type != "download"
    return AtlasSource(
        group_id=group_id,
        cluster_name=task.cluster_name,
        snapshot_id=job.get("snapshotId") or job.get("snapshot_id"),
        snapshot_time=_job_time(job),
        job_id=job_id,
        job_kind="restore_job",
        delivery_type=task.delivery_type,
        target_group_id=(task.target_group_id or group_id) if into_cluster else None,
        target_cluster_name=task.target_cluster_name if into_cluster else None,
    )


def collection_restore_source(
    job: Mapping[str, Any],
    *,
    cluster_name: str,
    group_id: str,
    job_id: str,
    target_cluster_name: str,
    target_group_id: str | None,
    namespaces: Sequence[Any],
    suffixed: bool,
) -> AtlasSource:
    """
    Return the Atlas side of a collection restore: source, target cluster and the target namespaces.

    Each namespace is its target, else its source. With a database or collection suffix the
    names Atlas writes are not known here: only the cluster is named.

    :param job: the collection restore job as Atlas returned it (for ``snapshotId``).
    :param cluster_name: the source cluster.
    :param group_id: the source project.
    :param job_id: the collection restore job's id.
    :param target_cluster_name: the cluster restored into.
    :param target_group_id: its project (the source's when ``None``).
    :param namespaces: the operator's ``databases`` and ``collections`` entries, as given.
    :param suffixed: a ``database_suffix`` or ``collection_suffix`` was given.
    """
    from airflow_provider_atlas_restore.api.collection_restore_bodies import NamespaceMapping

    mappings = [NamespaceMapping.of(entry, "namespaces") for entry in namespaces]
    names = () if suffixed else tuple(str(item.target or item.source) for item in mappings)
    return AtlasSource(
        group_id=group_id,
        cluster_name=cluster_name,
        snapshot_id=job.get("snapshotId"),
        job_id=job_id,
        job_kind="collection_restore_job",
        target_group_id=target_group_id or group_id,
        target_cluster_name=target_cluster_name,
        target_collections=names,
    )


def record_restore(hook: Any, source: AtlasSource) -> AtlasSource:
    """
    Report a restore's hook lineage (source cluster in, target cluster out); return ``source`` for OpenLineage.

    :param hook: the Atlas hook that did the work (the hook lineage context).
    :param source: the restore's Atlas side.
    """
    try:
        report_cluster_restore(hook, source)
    except Exception as error:  # a side channel: the restore is done, the task must not fail here
        log.warning("Hook lineage of the restore not reported: %s", error)
    return source


def restore_openlineage(source: AtlasSource | None) -> Any:
    """
    Return a restore's ``OperatorLineage`` (importing OpenLineage only now), or ``None`` when it recorded none.

    :param source: what :func:`record_restore` returned, or ``None``.
    """
    if source is None:
        return None
    from airflow_provider_atlas_restore.lineage.openlineage import cluster_restore_lineage

    return cluster_restore_lineage(source)
