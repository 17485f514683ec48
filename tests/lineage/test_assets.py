"""The download's asset: one spelling, the consumer's; the extra of its event; the user's own outlets."""

from __future__ import annotations

import re

import pytest
from airflow.providers.common.compat.assets import Asset, AssetAlias

from airflow_provider_atlas_restore.lineage.assets import (
    add_event_extra,
    event_extra,
    export_asset_uri,
    folder_asset,
    folder_asset_uri,
    outlets_with_folder_asset,
)
from airflow_provider_atlas_restore.lineage.facts import AtlasSource
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import REPO_ROOT
from tests.lineage.conftest import GROUP, JOB, SNAPSHOT


@pytest.mark.parametrize(
    ("destination", "asset"),
    [
        ("s3://bucket/restores", "s3://bucket/restores/"),
        ("s3://bucket/restores/", "s3://bucket/restores/"),
        ("s3://bucket/restores//", "s3://bucket/restores/"),
        ("gs://bucket/restores/", "gs://bucket/restores/"),
        ("s3://bucket", "s3://bucket/"),
        ("/data/restores", "file:///data/restores/"),
        ("/data/restores/", "file:///data/restores/"),
        ("file:///data/restores", "file:///data/restores/"),
        ("s3://bucket/restores/{{ ds }}/", "s3://bucket/restores/"),
        ("s3://bucket/restores/run-{{ ds }}", "s3://bucket/restores/"),
        ("/data/{{ ds }}/x", "file:///data/"),
        ("{{ params.destination }}", None),
        ("s3://{{ var.value.bucket }}/restores/", None),
        ("/{{ ds }}", None),
        ("restores", None),
        ("~/restores", None),
        ("", None),
        (None, None),
    ],
)
def test_the_folder_asset_is_the_folder_uri_with_one_trailing_slash_as_the_docs_write_it(destination, asset):
    assert folder_asset_uri(destination) == asset


def test_the_operators_asset_and_the_consumers_declaration_are_the_same_asset():
    ours = folder_asset("s3://bucket/restores")

    assert ours == Asset("s3://bucket/restores/")  # what docs/lineage.md tells consumers to write
    assert ours.uri == Asset("s3://bucket/restores/").uri
    if AIRFLOW_V_3_0_PLUS:  # the name is kept as written, the URI without the slash
        assert (ours.name, ours.uri) == ("s3://bucket/restores/", "s3://bucket/restores")
        assert ours != Asset("s3://bucket/restores")  # the other spelling is another asset


def test_an_object_storage_path_destination_gives_the_same_asset():
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    assert folder_asset_uri(ObjectStoragePath("file:///data/restores")) == "file:///data/restores/"


def test_the_download_operator_declares_the_folder_asset_when_built():
    task = AtlasDownloadSnapshotOperator(
        task_id="download", destination="/data/restores", restore_job_id="x" * 24, cluster_name="Cluster0"
    )

    assert task.outlets == [Asset("file:///data/restores/")]


def test_the_users_outlets_replace_the_folder_asset():
    own = Asset("s3://bucket/landed/")
    task = AtlasDownloadSnapshotOperator(
        task_id="download",
        destination="/data/restores",
        restore_job_id="x" * 24,
        cluster_name="C0",
        outlets=[own],
    )

    assert task.outlets == [own]
    assert outlets_with_folder_asset("{{ params.destination }}", None) is None


def test_a_destination_that_is_all_template_declares_no_outlet():
    task = AtlasDownloadSnapshotOperator(
        task_id="download", destination="{{ params.destination }}", restore_job_id="x" * 24, cluster_name="C0"
    )

    assert task.outlets == []


def test_the_extra_lists_each_file_and_the_source_and_holds_no_link(download_source, landed):
    extra = event_extra(download_source, landed)

    assert extra == {
        "files": [
            {
                "uri": "s3://bucket/restores/restore-a-shard-0.tar.gz",
                "bytes": 10,
                "sha256": "a" * 64,
                "replica_set": "shard-0",
                "kept": False,
            },
            {
                "uri": "s3://bucket/restores/restore-a-shard-1.tar.gz",
                "bytes": 20,
                "sha256": "b" * 64,
                "replica_set": "shard-1",
                "kept": True,
            },
        ],
        "cluster": "Cluster0",
        "cluster_uri": f"mongodb+atlas://{GROUP}/Cluster0",
        "group_id": GROUP,
        "snapshot_id": SNAPSHOT,
        "snapshot_time": "2026-08-10T03:35:05+00:00",
        "restore_job_id": JOB,
    }


def test_an_export_and_a_collection_restore_name_their_own_job_and_target():
    export = AtlasSource(
        group_id=GROUP, cluster_name="Cluster0", snapshot_id=SNAPSHOT, job_id=JOB, job_kind="export_job"
    )
    restore = AtlasSource(
        group_id=GROUP,
        cluster_name="Cluster0",
        job_id=JOB,
        job_kind="collection_restore_job",
        target_cluster_name="Cluster1",
        target_collections=("shop.orders",),
    )

    assert event_extra(export, [])["export_job_id"] == JOB
    assert "restore_job_id" not in event_extra(export, [])
    assert event_extra(restore, [])["target_cluster_uri"] == f"mongodb+atlas://{GROUP}/Cluster1"
    assert event_extra(restore, [])["target_collections"] == ["shop.orders"]
    with pytest.raises(ValueError, match="job_kind"):
        AtlasSource(group_id=GROUP, cluster_name="Cluster0", job_kind="backup")


@pytest.mark.parametrize(
    ("bucket", "prefix", "asset"),
    [
        (
            "s3://exports",
            "exported_snapshots/org/project/Cluster0",
            "s3://exports/exported_snapshots/org/project/Cluster0/",
        ),
        (
            "s3://exports/",
            "/exported_snapshots/org/project/Cluster0/",
            "s3://exports/exported_snapshots/org/project/Cluster0/",
        ),
        ("s3://exports", "", "s3://exports/"),
    ],
)
def test_an_exports_asset_is_the_bucket_and_the_stable_prefix_with_one_slash(bucket, prefix, asset):
    assert export_asset_uri(bucket, prefix) == asset


def test_the_extra_goes_on_each_asset_outlet_and_not_on_aliases(download_source, landed):
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.context import OutletEventAccessors
    else:
        from airflow.utils.context import OutletEventAccessors
    events = OutletEventAccessors()
    folder, own, alias = Asset("s3://bucket/restores/"), Asset("s3://bucket/landed/"), AssetAlias("restores")
    extra = event_extra(download_source, landed)

    updated = add_event_extra({"outlet_events": events}, [folder, own, alias], extra)

    # Named as written on 3.x; by their (normalised) URI on 2.11, where a Dataset has no name.
    assert updated == ([folder.name, own.name] if AIRFLOW_V_3_0_PLUS else [folder.uri, own.uri])
    assert events[folder].extra == extra
    assert events[own].extra == extra
    assert add_event_extra({}, [folder], extra) == []  # execute() called by hand: no events


def docs_table_rows() -> list[tuple[str, str | None]]:
    """Return each ``destination=`` of docs/lineage.md's table with the asset the docs say it gives."""
    rows = []
    for line in (REPO_ROOT / "docs" / "lineage.md").read_text().splitlines():
        if not line.startswith('| `"'):
            continue
        given, said = line.split(" | ")[:2]
        asset = re.search(r'Asset\("([^"]+)"\)', said)
        rows += [
            (destination, asset.group(1) if asset else None)
            for destination in re.findall(r'`"([^"]*)"`', given)
        ]
    return rows


def test_the_docs_table_of_destinations_and_assets_is_what_the_operator_declares():
    rows = docs_table_rows()

    assert len(rows) >= 8
    assert [(destination, folder_asset_uri(destination)) for destination, _ in rows] == rows


def test_a_folder_airflow_cannot_name_as_an_asset_declares_none_rather_than_break_the_dag(caplog):
    # Airflow 2.11 refuses a non-ASCII Dataset URI; 3.x accepts it. Either way the task is built.
    declared = folder_asset("/data/sauvegardes-é")

    if AIRFLOW_V_3_0_PLUS:
        assert declared == Asset("file:///data/sauvegardes-é/")
    else:
        assert declared is None
        assert "Give outlets=[...] instead" in caplog.text
