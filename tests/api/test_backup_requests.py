"""Requests and bodies of on-demand snapshots, exports and collection restores: paths, media types, checks."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_atlas_restore.api.backup_bodies import (
    ExportJobSpec,
    OnDemandSnapshotSpec,
    SnapshotRetentionSpec,
)
from airflow_provider_atlas_restore.api.collection_restore_bodies import (
    CollectionRestoreSpec,
    NamespaceMapping,
)
from airflow_provider_atlas_restore.api.endpoints import AtlasRequests
from airflow_provider_atlas_restore.exceptions import AtlasInputError

GROUP = "6a793f6b2c88faeba59bae37"
SNAPSHOT = "6a7943462c88faeba59ccf5f"
BUCKET = "6a794342c0eb9e7a17729455"
CLUSTER_PATH = f"/api/atlas/v2/groups/{GROUP}/clusters/Cluster0"
V2 = "application/vnd.atlas.2023-01-01+json"


@pytest.mark.parametrize(
    ("build", "method", "path", "media"),
    [
        (lambda r: r.take_snapshot_request(GROUP, "Cluster0", {}), "POST", "/backup/snapshots", V2),
        (
            lambda r: r.delete_snapshot_request(GROUP, "Cluster0", SNAPSHOT),
            "DELETE",
            f"/backup/snapshots/{SNAPSHOT}",
            V2,
        ),
        (
            lambda r: r.update_snapshot_retention_request(GROUP, "Cluster0", SNAPSHOT, {}),
            "PATCH",
            f"/backup/snapshots/{SNAPSHOT}",
            V2,
        ),
        (lambda r: r.list_export_jobs_request(GROUP, "Cluster0"), "GET", "/backup/exports", V2),
        (lambda r: r.create_export_job_request(GROUP, "Cluster0", {}), "POST", "/backup/exports", V2),
        (
            lambda r: r.get_export_job_request(GROUP, "Cluster0", SNAPSHOT),
            "GET",
            f"/backup/exports/{SNAPSHOT}",
            V2,
        ),
        (
            lambda r: r.create_collection_restore_job_request(GROUP, "Cluster0", {}),
            "POST",
            "/collectionRestoreJobs",
            "application/vnd.atlas.2025-03-12+json",
        ),
        (
            lambda r: r.list_restored_collections_request(GROUP, "Cluster0", SNAPSHOT, state="FAILED"),
            "GET",
            f"/collectionRestoreJobs/{SNAPSHOT}/collections",
            "application/vnd.atlas.2025-03-12+json",
        ),
        (
            lambda r: r.get_restored_collection_request(GROUP, "Cluster0", SNAPSHOT, "sales.orders"),
            "GET",
            f"/collectionRestoreJobs/{SNAPSHOT}/collections/sales.orders",
            "application/vnd.atlas.2025-03-12+json",
        ),
    ],
)
def test_cluster_requests_use_the_documented_path_and_media_type(build, method, path, media) -> None:
    request = build(AtlasRequests())

    assert (request.method, request.path) == (method, CLUSTER_PATH + path)
    assert request.headers["Accept"] == media
    assert request.headers.get("Content-Type", media) == media


def test_bucket_requests_ask_for_resource_version_2024_05_30() -> None:
    listing = AtlasRequests().list_export_buckets_request(GROUP, page_num=2, items_per_page=100)
    one = AtlasRequests().get_export_bucket_request(GROUP, BUCKET)

    assert listing.path == f"/api/atlas/v2/groups/{GROUP}/backup/exportBuckets"
    assert dict(listing.params) == {"pageNum": "2", "itemsPerPage": "100", "includeCount": "true"}
    assert one.path.endswith(f"/backup/exportBuckets/{BUCKET}")
    assert {listing.headers["Accept"], one.headers["Accept"]} == {"application/vnd.atlas.2024-05-30+json"}


def test_collection_restores_are_refused_on_v1() -> None:
    with pytest.raises(AtlasInputError, match="v2 API only"):
        AtlasRequests("v1.0").list_collection_restore_jobs_request(GROUP, "Cluster0")


@pytest.mark.parametrize(
    "build",
    [
        lambda r: r.delete_snapshot_request(GROUP, "Cluster0", "../x"),
        lambda r: r.get_export_job_request(GROUP, "Cluster0", "nope"),
        lambda r: r.get_export_bucket_request(GROUP, "0" * 23),
        lambda r: r.get_collection_restore_job_request(GROUP, "Cluster0", "x" * 24),
        lambda r: r.get_restored_collection_request(GROUP, "Cluster0", SNAPSHOT, "../admin"),
        lambda r: r.list_restored_collections_request(GROUP, "Cluster0", SNAPSHOT, state="DONE"),
    ],
)
def test_ids_and_namespaces_are_checked_before_they_reach_a_url(build) -> None:
    with pytest.raises(AtlasInputError):
        build(AtlasRequests())


def test_snapshot_and_retention_bodies() -> None:
    assert OnDemandSnapshotSpec("nightly", 3).to_body() == {"description": "nightly", "retentionInDays": 3}
    assert OnDemandSnapshotSpec().to_body() == {"retentionInDays": 1}
    assert SnapshotRetentionSpec(2, "WEEKS").to_body() == {"retentionUnit": "WEEKS", "retentionValue": 2}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (lambda: OnDemandSnapshotSpec(retention_in_days=0), "retention_in_days=0 is out of range"),
        (lambda: OnDemandSnapshotSpec(description="x" * 1001), "description must be text"),
        (lambda: SnapshotRetentionSpec(1, "days"), "retention_unit='days' is not allowed"),
        (lambda: ExportJobSpec("latest", BUCKET), "snapshot_id='latest' is not a valid Atlas id"),
        (lambda: ExportJobSpec(SNAPSHOT, BUCKET, {"k": 1}), r"custom_data\['k'\] is not allowed"),  # type: ignore[dict-item]
        (lambda: ExportJobSpec(SNAPSHOT, BUCKET, ["k"]), "custom_data must be a dict"),  # type: ignore[arg-type]
    ],
)
def test_bad_snapshot_and_export_values_say_what_is_allowed(spec, message) -> None:
    with pytest.raises(AtlasInputError, match=message):
        spec().to_body()


def test_export_body_turns_custom_data_into_key_value_pairs() -> None:
    body = ExportJobSpec(SNAPSHOT, BUCKET, {"team": "data", "run": "1"}).to_body()

    assert body == {
        "snapshotId": SNAPSHOT,
        "exportBucketId": BUCKET,
        "customData": [{"key": "team", "value": "data"}, {"key": "run", "value": "1"}],
    }


def spec(**overrides: Any) -> CollectionRestoreSpec:
    arguments: dict[str, Any] = {
        "target_cluster_name": "Staging",
        "target_group_id": GROUP,
        "collections": ["sales.orders"],
        "snapshot_id": SNAPSHOT,
    }
    arguments.update(overrides)
    return CollectionRestoreSpec(**arguments)


def test_collection_restore_body_names_every_field_as_the_spec_spells_it() -> None:
    body = spec(
        collections=[{"source": "sales.orders", "target": "staging.orders"}, NamespaceMapping("sales.users")],
        databases=["crm"],
        snapshot_id=None,
        point_in_time_utc_seconds=1_786_332_905,
        index_strategy="ALL_EXCEPT_TTL",
        collection_suffix="_restored",
    ).to_body()

    assert body == {
        "targetClusterName": "Staging",
        "targetGroupId": GROUP,
        "writeStrategy": "CREATE_NEW",
        "indexStrategy": "ALL_EXCEPT_TTL",
        "pointInTimeUtcSeconds": 1_786_332_905,
        "databases": [{"sourceNamespace": "crm"}],
        "collections": [
            {"sourceNamespace": "sales.orders", "targetNamespace": "staging.orders"},
            {"sourceNamespace": "sales.users"},
        ],
        "collectionSuffix": "_restored",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"collections": ["orders"]}, "is not a collection namespace"),
        ({"collections": ["sales.$cmd"]}, "is not a collection namespace"),
        ({"collections": ["sales.system.users"]}, "is not a collection namespace"),
        ({"collections": [{"source": "sales.orders", "target": "bad"}]}, r"collections\[0\].target"),
        ({"collections": ["sales.orders", "sales.orders"]}, "twice"),
        ({"collections": [f"db.c{i}" for i in range(101)]}, "at most 100"),
        ({"collections": "sales.orders"}, "must be a list"),
        ({"collections": [{"from": "sales.orders"}]}, "must be a namespace"),
        ({"collections": None, "databases": ["a.b"]}, "is not a database name"),
        ({"collections": None}, "at least one of collections"),
        ({"snapshot_id": None}, "exactly one of snapshot_id"),
        ({"point_in_time_utc_seconds": 1_786_332_905}, "exactly one of snapshot_id"),
        ({"snapshot_id": None, "oplog_ts": 1_786_332_905}, "oplog_ts and oplog_inc go together"),
        ({"write_strategy": "OVERWRITE_EXISTING"}, "pass confirm_overwrite=True"),
        ({"write_strategy": "MERGE"}, "write_strategy='MERGE' is not allowed"),
        ({"index_strategy": "SOME"}, "index_strategy='SOME' is not allowed"),
        ({"target_cluster_name": "a/b"}, "target_cluster_name"),
        ({"database_suffix": "a b"}, "database_suffix"),
    ],
)
def test_bad_collection_restores_are_refused_before_any_request(overrides, message) -> None:
    with pytest.raises(AtlasInputError, match=message):
        spec(**overrides).to_body()


def test_overwrite_is_sent_once_confirmed() -> None:
    body = spec(write_strategy="OVERWRITE_EXISTING", confirm_overwrite=True).to_body()

    assert body["writeStrategy"] == "OVERWRITE_EXISTING"
