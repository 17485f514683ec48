"""
Report a run to Airflow's hook lineage collector: the Atlas cluster as input, each final file or restored cluster as output.

Airflow's collector does nothing unless a hook lineage reader (the OpenLineage provider, for
one) is installed. Only final names are reported: never a part file or an upload id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from airflow_provider_atlas_restore.lineage.facts import AtlasSource, LandedFile

__all__ = ["report_cluster_restore", "report_export", "report_files"]

log = logging.getLogger(__name__)


def _collector() -> Any:
    from airflow.providers.common.compat.lineage.hook import get_hook_lineage_collector

    return get_hook_lineage_collector()


def report_files(context: Any, source: AtlasSource, files: Iterable[LandedFile]) -> int:
    """
    Report the source cluster as input and each file as output; return how many outputs were reported.

    :param context: what did the work, as Airflow's collector takes it (the task's hook).
    :param source: the Atlas cluster, snapshot and job.
    :param files: the files written (or kept), at their final names.
    """
    collector = _collector()
    collector.add_input_asset(context=context, uri=source.cluster_uri)
    count = 0
    for landed in files:
        collector.add_output_asset(
            context=context, uri=landed.uri, asset_extra={"sha256": landed.sha256, "bytes": landed.bytes}
        )
        count += 1
    log.debug("Hook lineage: %s -> %d file(s)", source.cluster_uri, count)
    return count


def report_cluster_restore(context: Any, source: AtlasSource) -> bool:
    """
    Report a restore into a cluster: the source cluster as input, the target cluster as output.

    Returns whether an output was reported (a download restore job has no target cluster).

    :param context: what did the work, as Airflow's collector takes it (the task's hook).
    :param source: the source cluster, snapshot, job and target cluster.
    """
    collector = _collector()
    collector.add_input_asset(context=context, uri=source.cluster_uri)
    target = source.target_cluster_uri
    if target is None:
        return False
    collector.add_output_asset(context=context, uri=target)
    return True


def report_export(context: Any, source: AtlasSource, uri: str) -> None:
    """
    Report an export: the source cluster as input, the export's folder in the bucket as output.

    :param context: what did the work, as Airflow's collector takes it (the task's hook).
    :param source: the Atlas cluster, snapshot and export job.
    :param uri: the export's URI (``s3://bucket/exported_snapshots/...``).
    """
    collector = _collector()
    collector.add_input_asset(context=context, uri=source.cluster_uri)
    collector.add_output_asset(context=context, uri=uri)
