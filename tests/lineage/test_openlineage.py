"""OpenLineage facets for the four kinds of run: download, export, create-restore, collection restore."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.lineage.facts import AtlasSource, LandedFile, storage_dataset
from airflow_provider_atlas_restore.lineage.openlineage import (
    cluster_restore_lineage,
    files_lineage,
    source_only_lineage,
)
from tests.lineage.conftest import GROUP, JOB, SNAPSHOT


def names(datasets):
    return [(dataset.namespace, dataset.name) for dataset in datasets]


@pytest.mark.parametrize(
    ("uri", "dataset"),
    [
        ("s3://bucket/restores/restore-a.tar.gz", ("s3://bucket", "restores/restore-a.tar.gz")),
        ("gs://bucket/a.tgz", ("gs://bucket", "a.tgz")),
        ("file:///data/restores/a.tgz", ("file", "/data/restores/a.tgz")),
        ("/data/restores/a.tgz", ("file", "/data/restores/a.tgz")),
    ],
)
def test_stored_files_are_named_as_the_openlineage_naming_spec_has_them(uri, dataset):
    assert storage_dataset(uri) == dataset


def test_a_download_has_the_cluster_in_with_its_snapshot_and_each_file_out(download_source, landed):
    lineage = files_lineage(download_source, landed)

    assert names(lineage.inputs) == [(f"mongodb+atlas://{GROUP}", "Cluster0")]
    snapshot = lineage.inputs[0].facets["atlasSnapshot"]
    assert (snapshot.snapshotId, snapshot.snapshotTime) == (SNAPSHOT, "2026-08-10T03:35:05+00:00")
    assert names(lineage.outputs) == [
        ("s3://bucket", "restores/restore-a-shard-0.tar.gz"),
        ("s3://bucket", "restores/restore-a-shard-1.tar.gz"),
    ]
    assert [out.outputFacets["outputStatistics"].size for out in lineage.outputs] == [10, 20]
    job = lineage.run_facets["atlasJob"]
    assert (job.jobKind, job.jobId, job.deliveryType) == ("restore_job", JOB, "download")


def test_an_export_has_the_cluster_in_and_the_exported_objects_out():
    source = AtlasSource(
        group_id=GROUP, cluster_name="Cluster0", snapshot_id=SNAPSHOT, job_id=JOB, job_kind="export_job"
    )
    exported = [
        LandedFile(
            uri="s3://exports/exported_snapshots/o/p/Cluster0/x/shop/orders.json.gz", bytes=5, sha256="d" * 64
        )
    ]

    lineage = files_lineage(source, exported)

    assert names(lineage.outputs) == [
        ("s3://exports", "exported_snapshots/o/p/Cluster0/x/shop/orders.json.gz")
    ]
    assert lineage.run_facets["atlasJob"].jobKind == "export_job"


def test_a_restore_into_a_cluster_has_the_target_cluster_out():
    source = AtlasSource(
        group_id=GROUP,
        cluster_name="Cluster0",
        snapshot_id=SNAPSHOT,
        job_id=JOB,
        delivery_type="automated",
        target_cluster_name="Cluster1",
    )

    lineage = cluster_restore_lineage(source)

    assert names(lineage.inputs) == [(f"mongodb+atlas://{GROUP}", "Cluster0")]
    assert names(lineage.outputs) == [(f"mongodb+atlas://{GROUP}", "Cluster1")]
    assert lineage.run_facets["atlasJob"].deliveryType == "automated"


def test_a_collection_restore_has_each_restored_collection_out():
    source = AtlasSource(
        group_id=GROUP,
        cluster_name="Cluster0",
        job_id=JOB,
        job_kind="collection_restore_job",
        target_group_id="b" * 24,
        target_cluster_name="Cluster1",
        target_collections=("shop.orders", "shop.users"),
    )

    lineage = cluster_restore_lineage(source)

    assert names(lineage.outputs) == [
        (f"mongodb+atlas://{'b' * 24}", "Cluster1/shop.orders"),
        (f"mongodb+atlas://{'b' * 24}", "Cluster1/shop.users"),
    ]
    assert "atlasSnapshot" not in lineage.inputs[0].facets  # no snapshot named: no empty facet


def test_a_run_that_wrote_nothing_has_the_cluster_in_and_nothing_out(download_source):
    lineage = source_only_lineage(download_source)

    assert names(lineage.inputs) == [(f"mongodb+atlas://{GROUP}", "Cluster0")]
    assert lineage.outputs == []


def test_the_facets_serialize_as_openlineage_sends_them(download_source, landed):
    from openlineage.client.serde import Serde

    lineage = files_lineage(download_source, landed)
    sent = Serde.to_dict(lineage.run_facets["atlasJob"])

    assert sent["jobKind"] == "restore_job"
    assert sent["_schemaURL"].startswith("urn:airflow-provider-atlas-restore:")
