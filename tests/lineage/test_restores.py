"""The Atlas side of exports and restores, read from what the operators have: no request, no guess."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_provider_atlas_restore.lineage.restores import (
    collection_restore_source,
    export_stable_uri,
    record_export,
    restore_job_source,
)
from tests.lineage.conftest import GROUP

ORG = "a0123456789abcdef012345a"
PREFIX = f"exported_snapshots/{ORG}/{GROUP}/Cluster0/2026-08-10T0327/1786332505"
EXPORT = {
    "export_job_id": "e" * 24,
    "cluster_name": "Cluster0",
    "group_id": GROUP,
    "snapshot_id": "5" * 24,
    "state": "Successful",
    "prefix": PREFIX,
    "uri": f"s3://exports-bucket/{PREFIX}",
}


def test_the_export_asset_is_the_bucket_and_the_prefix_up_to_the_cluster() -> None:
    assert export_stable_uri(EXPORT) == f"s3://exports-bucket/exported_snapshots/{ORG}/{GROUP}/Cluster0/"


def test_a_prefix_not_shaped_as_atlas_writes_it_gives_no_asset_uri() -> None:
    assert export_stable_uri({**EXPORT, "prefix": "somewhere/else", "uri": "s3://b/somewhere/else"}) is None
    assert export_stable_uri({**EXPORT, "cluster_name": "Other"}) is None
    assert export_stable_uri({**EXPORT, "uri": None}) is None  # a bucket with no object storage scheme


def test_an_export_not_successful_records_nothing(collector) -> None:
    events: dict = {}
    assert record_export({"outlet_events": events}, [], object(), {**EXPORT, "state": "Queued"}) is None
    assert collector.collected_assets.inputs == []


def test_a_download_restore_has_no_target_and_an_automated_one_defaults_to_the_source_project() -> None:
    task = SimpleNamespace(
        cluster_name="Cluster0", delivery_type="download", target_cluster_name=None, target_group_id=None
    )
    job = {"snapshotId": "5" * 24, "timestamp": "2026-08-10T03:27:00Z"}
    download = restore_job_source(job, "j" * 24, GROUP, task)
    assert download.target_cluster_uri is None
    assert download.snapshot_time is not None
    assert download.snapshot_time.isoformat() == "2026-08-10T03:27:00+00:00"
    task.delivery_type, task.target_cluster_name = "automated", "Target0"
    automated = restore_job_source(job, "j" * 24, GROUP, task)
    assert automated.target_cluster_uri == f"mongodb+atlas://{GROUP}/Target0"


def test_collection_targets_are_their_target_names_and_only_the_cluster_with_a_suffix() -> None:
    given = [{"source": "sales.orders", "target": "staging.orders"}, "sales.customers", "billing"]
    arguments = {"cluster_name": "Cluster0", "group_id": GROUP, "job_id": "c" * 24}
    plain = collection_restore_source(
        {}, target_cluster_name="Target0", target_group_id=None, namespaces=given, suffixed=False, **arguments
    )
    assert plain.target_collections == ("staging.orders", "sales.customers", "billing")
    assert plain.target_cluster_uri == f"mongodb+atlas://{GROUP}/Target0"
    suffixed = collection_restore_source(
        {}, target_cluster_name="Target0", target_group_id=None, namespaces=given, suffixed=True, **arguments
    )
    assert suffixed.target_collections == ()
