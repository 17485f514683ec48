"""
OpenLineage facets of a finished run: the Atlas cluster in, the stored files or the restored cluster out.

The ``apache-airflow-providers-openlineage`` package is optional: import this module only
where OpenLineage called you (an operator's ``get_openlineage_facets_on_complete``), never at
module level of an operator: it imports ``openlineage-python``. Datasets: a cluster is namespace
``mongodb+atlas://<project id>``, name ``<cluster>``; a stored file follows the OpenLineage
naming spec (``s3://<bucket>`` and the key; ``file`` and the absolute path).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attr
from airflow.providers.common.compat.openlineage.facet import (
    DatasetFacet,
    InputDataset,
    OutputDataset,
    OutputStatisticsOutputDatasetFacet,
    RunFacet,
)

from airflow_provider_atlas_restore.lineage.facts import (
    AtlasSource,
    LandedFile,
    cluster_namespace,
    storage_dataset,
)

__all__ = [
    "AtlasJobRunFacet",
    "AtlasSnapshotDatasetFacet",
    "cluster_restore_lineage",
    "export_lineage",
    "files_lineage",
    "source_only_lineage",
]

#: Where the custom facets are described: docs/lineage.md of this package (not published on a site).
_SCHEMA_URL = "urn:airflow-provider-atlas-restore:docs/lineage.md"


@attr.define
class AtlasSnapshotDatasetFacet(DatasetFacet):
    """
    The Atlas snapshot a run read from the cluster (``atlasSnapshot``).

    :param snapshotId: the snapshot's id.
    :param snapshotTime: when Atlas took it (ISO 8601).
    """

    snapshotId: str | None = None
    snapshotTime: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_URL}#atlassnapshotdatasetfacet"


@attr.define
class AtlasJobRunFacet(RunFacet):
    """
    The Atlas job a run used (``atlasJob``).

    :param jobKind: ``restore_job``, ``export_job`` or ``collection_restore_job``.
    :param jobId: the job's id.
    :param deliveryType: a restore job's ``deliveryType``.
    """

    jobKind: str
    jobId: str | None = None
    deliveryType: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_URL}#atlasjobrunfacet"


def _input(source: AtlasSource) -> Any:
    facets: dict[str, Any] = {}
    if source.snapshot_id or source.snapshot_time:
        facets["atlasSnapshot"] = AtlasSnapshotDatasetFacet(
            snapshotId=source.snapshot_id,
            snapshotTime=source.snapshot_time.isoformat() if source.snapshot_time else None,
        )
    return InputDataset(
        namespace=cluster_namespace(source.group_id), name=source.cluster_name or "unknown", facets=facets
    )


def _run_facets(source: AtlasSource) -> dict[str, Any]:
    return {
        "atlasJob": AtlasJobRunFacet(
            jobKind=source.job_kind, jobId=source.job_id, deliveryType=source.delivery_type
        )
    }


def _operator_lineage(inputs: list[Any], outputs: list[Any], run_facets: dict[str, Any]) -> Any:
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


def files_lineage(source: AtlasSource, files: Iterable[LandedFile]) -> Any:
    """
    Return the ``OperatorLineage`` of a download or export: the cluster in, one dataset per stored file out.

    :param source: the Atlas cluster, snapshot and job.
    :param files: the files written (or kept), at their final names.
    """
    outputs = []
    for landed in files:
        namespace, name = storage_dataset(landed.uri)
        statistics = OutputStatisticsOutputDatasetFacet(rowCount=None, size=landed.bytes, fileCount=1)
        outputs.append(
            OutputDataset(namespace=namespace, name=name, outputFacets={"outputStatistics": statistics})
        )
    return _operator_lineage([_input(source)], outputs, _run_facets(source))


def cluster_restore_lineage(source: AtlasSource) -> Any:
    """
    Return the ``OperatorLineage`` of a restore into a cluster (create-restore, collection restore).

    The output is the target cluster (``mongodb+atlas://<target project>``, ``<cluster>``), or one
    dataset per restored collection (``<cluster>/<database>.<collection>``) when they are known.

    :param source: the source cluster, snapshot, job and target cluster.
    """
    outputs = []
    if source.target_cluster_name:
        namespace = cluster_namespace(source.target_group_id or source.group_id)
        names = [f"{source.target_cluster_name}/{name}" for name in source.target_collections]
        outputs = [
            OutputDataset(namespace=namespace, name=name) for name in names or [source.target_cluster_name]
        ]
    return _operator_lineage([_input(source)], outputs, _run_facets(source))


def source_only_lineage(source: AtlasSource) -> Any:
    """
    Return an ``OperatorLineage`` with the cluster as input and no output (a run that wrote nothing).

    :param source: the Atlas cluster, snapshot and job.
    """
    return _operator_lineage([_input(source)], [], _run_facets(source))


def export_lineage(source: AtlasSource, uri: str | None) -> Any:
    """
    Return the ``OperatorLineage`` of an export: the cluster in, the export's folder in the bucket out.

    :param source: the Atlas cluster, snapshot and export job.
    :param uri: the export's URI (``s3://bucket/<prefix>``), or ``None`` when Atlas's bucket has no scheme here.
    """
    outputs = []
    if uri:
        namespace, name = storage_dataset(uri)
        outputs.append(OutputDataset(namespace=namespace, name=name))
    return _operator_lineage([_input(source)], outputs, _run_facets(source))
