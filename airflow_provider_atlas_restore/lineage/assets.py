"""
The assets the operators declare, and the extra of the event each successful run emits.

A download's asset is its destination folder, spelt as docs/lineage.md tells consumers to write
it: the folder's URI with one trailing slash (``Asset("s3://bucket/restores/")``). Airflow 3
keeps an asset's name as written and its URI without the slash, and name and URI together
identify it: the operator and the consumer must use the one spelling this module builds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

if TYPE_CHECKING:  # the download operator imports this module at DAG parse; facts are for run time
    from airflow_provider_atlas_restore.lineage.facts import AtlasSource, LandedFile

__all__ = [
    "add_event_extra",
    "add_to_aliases",
    "asset_alias_class",
    "asset_class",
    "event_extra",
    "export_asset_alias",
    "export_asset_alias_name",
    "export_asset_uri",
    "folder_asset",
    "folder_asset_uri",
    "outlets_with_folder_asset",
]

log = logging.getLogger(__name__)


def asset_class() -> Any:
    """
    Return Airflow's ``Asset`` class (``Dataset`` on 2.11), from the light module that defines it.

    Not ``airflow.providers.common.compat.assets``: on Airflow 3 that imports the ORM models
    (``airflow.models.asset``, about 0.3 s), and the operator builds its asset when a DAG file is
    parsed, where that cost would be paid on every parse.
    """
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk import Asset

        return Asset
    from airflow.datasets import Dataset

    return Dataset


def asset_alias_class() -> Any:
    """Return Airflow's ``AssetAlias`` class (``DatasetAlias`` on 2.11), from the light module that defines it."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk import AssetAlias

        return AssetAlias
    from airflow.datasets import DatasetAlias

    return DatasetAlias


_TEMPLATE = re.compile(r"\{\{|\{%")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$")


def _static_part(path: str) -> str:
    """Return ``path`` up to the last ``/`` before the first template marker (all of it when none)."""
    match = _TEMPLATE.search(path)
    if match is None:
        return path
    return path[: path.rfind("/", 0, match.start()) + 1]


def folder_asset_uri(destination: Any) -> str | None:
    """
    Return the asset URI of a download destination folder, with one trailing slash, or ``None``.

    ``s3://bucket/restores`` gives ``s3://bucket/restores/``; ``/data/restores`` and
    ``file:///data/restores`` give ``file:///data/restores/``. A templated destination gives its
    static folder before the first templated segment (``s3://bucket/restores/{{ ds }}/`` gives
    ``s3://bucket/restores/``) when that names at least a bucket, or a folder below ``/``;
    a relative or ``~`` path, or a destination that is all template, gives ``None``.

    :param destination: the operator's ``destination`` as given (a string or an ``ObjectStoragePath``).
    """
    protocol = getattr(destination, "protocol", None)
    if protocol is not None and not isinstance(destination, str):  # an ObjectStoragePath
        path = str(getattr(destination, "path", "")).strip("/")
        if not path:
            return None
        return f"{protocol}:///{path}/" if protocol in ("file", "local") else f"{protocol}://{path}/"
    if not isinstance(destination, str) or not destination.strip():
        return None
    text = _static_part(destination.strip())
    match = _SCHEME.match(text)
    if match is not None:
        scheme, rest = match.groups()
        if scheme in ("file", "local"):
            folder = rest.lstrip("/").rstrip("/")
            return f"file:///{folder}/" if folder else None
        bucket, _, key = rest.partition("/")
        if not bucket or _TEMPLATE.search(bucket):
            return None
        key = key.strip("/")
        return f"{scheme}://{bucket}/{key}/" if key else f"{scheme}://{bucket}/"
    if not text.startswith("/"):
        return None  # relative, ``~`` or all template: the worker decides where it is
    folder = text.strip("/")
    return f"file:///{folder}/" if folder else None


def folder_asset(destination: Any) -> Any | None:
    """
    Return the destination folder's ``Asset`` (a ``Dataset`` on Airflow 2.11), or ``None``.

    :param destination: the operator's ``destination`` as given.
    """
    uri = folder_asset_uri(destination)
    if not uri:
        return None
    try:
        return asset_class()(uri)
    except (ValueError, TypeError) as error:  # e.g. a non-ASCII path, which a 2.11 Dataset refuses
        log.warning(
            "No asset declared for destination folder %s: %s. Give outlets=[...] instead.", uri, error
        )
        return None


def outlets_with_folder_asset(destination: Any, outlets: Any) -> Any:
    """
    Return the outlets a download task declares: the user's when given, else the folder's asset.

    :param destination: the operator's ``destination`` as given.
    :param outlets: the task's ``outlets`` argument (``None`` when not given).
    """
    if outlets:
        return outlets
    asset = folder_asset(destination)
    return [asset] if asset is not None else outlets


def export_asset_uri(bucket_uri: str, prefix: str) -> str:
    """
    Return an export's asset URI: the bucket and the stable part of its prefix, with one trailing slash.

    :param bucket_uri: the export bucket, ``s3://bucket`` (or ``gs://bucket``).
    :param prefix: the part of the export path that does not change from one export to the next
        (up to the cluster, e.g. ``exported_snapshots/<org>/<project>/<cluster>``).
    """
    folder = prefix.strip("/")
    base = bucket_uri.rstrip("/")
    return f"{base}/{folder}/" if folder else f"{base}/"


def export_asset_alias_name(cluster_name: Any, bucket: Any) -> str:
    """
    Return the name of the asset alias an export task declares: ``atlas-export:<cluster>:<bucket>``.

    :param cluster_name: the task's ``cluster_name`` as given (a template stays as written).
    :param bucket: its ``bucket_name``, or ``export_bucket_id`` when no name is given.
    """
    return f"atlas-export:{cluster_name}:{bucket}"


def export_asset_alias(cluster_name: Any, bucket: Any) -> Any:
    """
    Return the ``AssetAlias`` (``DatasetAlias`` on 2.11) an export task declares as its outlet.

    The export's asset holds the org id and the bucket's scheme, which Atlas tells only at run
    time; through the alias each run emits its event for that asset (see :func:`add_to_aliases`).

    :param cluster_name: the task's ``cluster_name`` as given.
    :param bucket: its ``bucket_name``, or ``export_bucket_id``.
    """
    return asset_alias_class()(name=export_asset_alias_name(cluster_name, bucket))


def _outlet_events(context: Mapping[str, Any]) -> Any:
    """Return the task's ``outlet_events`` accessor, or ``None`` (``execute`` called by hand)."""
    return context.get("outlet_events") if isinstance(context, Mapping) else None


def add_to_aliases(
    context: Mapping[str, Any], outlets: Sequence[Any] | None, uri: str | None, extra: dict[str, Any]
) -> list[str]:
    """
    Emit, through each asset alias among the task's outlets, one event of the asset ``uri`` with ``extra``.

    Airflow creates the asset if it does not know it yet. Return the aliases' names; without
    ``outlet_events`` in the context (``execute`` called by hand), or without aliases, nothing
    happens; aliases but no ``uri`` emit nothing, with a warning.

    :param context: the task's context.
    :param outlets: the task's ``outlets``.
    :param uri: the asset's URI, spelt as consumers write it (one trailing slash for a folder),
        or ``None`` when it is not known.
    :param extra: the event's extra.
    """
    events = _outlet_events(context)
    aliases = [outlet for outlet in outlets or () if isinstance(outlet, asset_alias_class())]
    if events is None or not aliases:
        return []
    if not uri:
        log.warning(
            "No asset event through %s: the asset's URI is not known (a bucket with no object storage scheme)",
            ", ".join(alias.name for alias in aliases),
        )
        return []
    for alias in aliases:
        events[alias].add(asset_class()(uri), extra=extra)
    log.info("Asset event for %s emitted through %s", uri, ", ".join(alias.name for alias in aliases))
    return [alias.name for alias in aliases]


def event_extra(source: AtlasSource, files: Iterable[LandedFile]) -> dict[str, Any]:
    """
    Return the extra of a run's asset event: what it wrote (URI, bytes, sha256) and where it came from.

    :param source: the Atlas cluster, snapshot and job.
    :param files: the files written (or kept), at their final names.
    """
    return {"files": [landed.to_extra() for landed in files], **source.to_extra()}


def add_event_extra(
    context: Mapping[str, Any], outlets: Sequence[Any] | None, extra: dict[str, Any]
) -> list[str]:
    """
    Put ``extra`` on the event Airflow emits for each asset outlet of the task; return their names.

    Asset aliases and other outlets are left alone. Without ``outlet_events`` in the context
    (``execute`` called by hand) nothing happens.

    :param context: the task's context.
    :param outlets: the task's ``outlets``.
    :param extra: the event's extra (see :func:`event_extra`).
    """
    events = _outlet_events(context)
    if events is None:
        return []
    updated = []
    for outlet in outlets or ():
        if isinstance(outlet, asset_class()):
            events[outlet].extra.update(extra)
            updated.append(str(getattr(outlet, "name", None) or outlet.uri))
    if updated:
        log.info("Asset event extra set for %s (%d file(s))", ", ".join(updated), len(extra.get("files", ())))
    return updated
