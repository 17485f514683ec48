"""A finished download's lineage: its Atlas source and files, its asset event's extra, its hook lineage."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.lineage.assets import add_event_extra, event_extra
from airflow_provider_atlas_restore.lineage.facts import AtlasSource, LandedFile
from airflow_provider_atlas_restore.lineage.hook_lineage import report_files

__all__ = ["DownloadLineage", "download_source", "record_download"]

log = logging.getLogger(__name__)

#: What a finished download leaves for OpenLineage: its source and its files.
DownloadLineage = tuple[AtlasSource, list[LandedFile]]


def _group_id(link_source: Any, hook: Any) -> str | None:
    """Return the project of the links' source, else the connection's; ``None`` when neither names one."""
    group_id = getattr(link_source, "group_id", None) or getattr(link_source, "source", (None,) * 3)[2]
    try:
        return str(hook.resolve_group_id(group_id))
    except AtlasInputError:  # a sensor's XCom value with usable links needs no project
        return None


def download_source(link_source: Any, links: Sequence[Any], results: Sequence[Any], hook: Any) -> AtlasSource:
    """
    Return the Atlas side of a download from where its links came from and what it wrote.

    :param link_source: the links' source (a restore job's or a flex snapshot's), after ``links()``.
    :param links: the download's links (their ``origin`` holds the job, snapshot and cluster).
    :param results: the ``DownloadResult`` of each file.
    :param hook: the Atlas hook (its connection's project is used when the task named none).
    """
    origin = next((link.origin for link in links if getattr(link, "origin", None) is not None), None)
    job_id, cluster_name, _ = getattr(link_source, "source", (None, None, None))
    snapshot_id = next((result.snapshot_id for result in results if result.snapshot_id), None)
    return AtlasSource(
        group_id=_group_id(link_source, hook),
        cluster_name=getattr(origin, "cluster_name", None)
        or cluster_name
        or getattr(link_source, "cluster_name", None),
        snapshot_id=snapshot_id
        or getattr(origin, "snapshot_id", None)
        or getattr(link_source, "snapshot_id", None),
        snapshot_time=getattr(link_source, "snapshot_time", None),
        job_id=getattr(origin, "restore_job_id", None) or job_id,
        job_kind="restore_job",
        delivery_type="download",
    )


def record_download(
    context: Mapping[str, Any],
    outlets: Sequence[Any] | None,
    hook: Any,
    source: AtlasSource,
    results: Sequence[Any],
) -> DownloadLineage:
    """
    Put the run's extra on its asset events and report its hook lineage; return it for OpenLineage.

    :param context: the task's context.
    :param outlets: the task's outlets (the folder's asset, or the user's).
    :param hook: the Atlas hook that did the work (the hook lineage context).
    :param source: the Atlas side (see :func:`download_source`).
    :param results: the ``DownloadResult`` (or its XCom dict) of each file.
    """
    files = [LandedFile.from_result(r if isinstance(r, Mapping) else r.to_xcom()) for r in results]
    add_event_extra(context, outlets, event_extra(source, files))
    try:
        report_files(hook, source, files)
    except Exception as error:  # a side channel: the files are written, the task must not fail here
        log.warning("Hook lineage of the download not reported: %s", error)
    return source, files
