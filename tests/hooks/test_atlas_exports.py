"""AtlasHook export buckets and export jobs: every page by `_id`, lookup by name, create once, recorded answers."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.api.backup_bodies import ExportJobSpec
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.models.export_bucket import ExportBucket
from airflow_provider_atlas_restore.models.export_job import ExportJob, ExportJobState
from tests.conftest import BASE_URL, CLUSTER, GROUP_ID

GROUP_URL = f"{BASE_URL}/api/atlas/v2/groups/{GROUP_ID}"


@pytest.fixture
def emulator_hook(emulator_connection, sleeps):
    atlas_hook = AtlasHook(emulator_connection)
    atlas_hook.sleep = sleeps.append
    yield atlas_hook
    atlas_hook.close()


@pytest.fixture
def bucket(atlas_emulator):
    return atlas_emulator.add_export_bucket(atlas_emulator.seed.group_id, "exports-bucket")


def test_2508_buckets_are_listed_once_each_in_six_pages(emulator_hook, atlas_emulator):
    ids = atlas_emulator.add_export_buckets(atlas_emulator.seed.group_id, 2508, bucket_name="test-bucket")

    listed = emulator_hook.list_export_buckets()

    assert [item["_id"] for item in listed] == ids
    assert atlas_emulator.stats.count(route="list_export_buckets", status=200) == 6


def test_bucket_is_found_by_name_among_stale_ones(emulator_hook, atlas_emulator, bucket):
    atlas_emulator.add_export_buckets(atlas_emulator.seed.group_id, 700, bucket_name="test-bucket")

    found = emulator_hook.find_export_bucket("exports-bucket")

    assert found["_id"] == bucket["_id"]
    assert emulator_hook.get_export_bucket(found["_id"])["region"] == "us-east-1"


def test_ambiguous_or_missing_bucket_name_asks_for_the_id(emulator_hook, atlas_emulator):
    atlas_emulator.add_export_buckets(atlas_emulator.seed.group_id, 7, bucket_name="test-bucket")

    with pytest.raises(AtlasInputError, match=r"7 export buckets named 'test-bucket' \(.+ and 2 more\)"):
        emulator_hook.find_export_bucket("test-bucket")
    with pytest.raises(AtlasInputError, match="no export bucket named 'other-bucket' on GCP"):
        emulator_hook.find_export_bucket("other-bucket", cloud_provider="GCP")


def test_export_job_is_created_read_and_listed(emulator_hook, atlas_emulator, bucket):
    seed = atlas_emulator.seed
    atlas_emulator.backup_timings.export_in_progress = 60

    created = emulator_hook.create_export_job(
        "Cluster0", seed.snapshot_id, bucket["_id"], custom_data={"pipeline": "nightly"}
    )
    atlas_emulator.clock.advance(60)
    read = emulator_hook.get_export_job("Cluster0", created["id"])
    listed = emulator_hook.list_export_jobs("Cluster0")

    assert ExportJob.from_api(created).state is ExportJobState.QUEUED
    assert ExportJob.from_api(read).state is ExportJobState.SUCCESSFUL
    assert created["customData"] == [{"key": "pipeline", "value": "nightly"}]
    assert [job["id"] for job in listed] == [created["id"]]
    uri = ExportBucket.from_api(bucket).object_storage_uri(read["prefix"])
    assert uri == f"s3://exports-bucket/{read['prefix']}"


def test_create_is_not_repeated_after_a_5xx(emulator_hook, atlas_emulator, bucket):
    atlas_emulator.faults.add(route="create_export_job", kind="status", status=500)

    with pytest.raises(AtlasApiError, match="500"):
        emulator_hook.create_export_job(
            "Cluster0", ExportJobSpec(atlas_emulator.seed.snapshot_id, bucket["_id"])
        )

    assert atlas_emulator.stats.count(route="create_export_job", status=500) == 1
    assert emulator_hook.list_export_jobs("Cluster0") == []


def test_export_of_a_snapshot_not_completed_is_refused_by_atlas(emulator_hook, atlas_emulator, bucket):
    running = atlas_emulator.add_snapshot(atlas_emulator.seed.group_id, "Cluster0", status="queued")

    with pytest.raises(AtlasApiError, match="not completed"):
        emulator_hook.create_export_job("Cluster0", running["id"], bucket["_id"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hook: hook.create_export_job("Cluster0", "latest", "0" * 24), "snapshot_id='latest'"),
        (lambda hook: hook.create_export_job("Cluster0", "0" * 24), "needs export_bucket_id"),
        (
            lambda hook: hook.create_export_job("Cluster0", ExportJobSpec("0" * 24, "0" * 24), "0" * 24),
            "not both",
        ),
        (lambda hook: hook.find_export_bucket("b"), "bucket_name='b'"),
        (lambda hook: hook.get_export_bucket("nope"), "export_bucket_id='nope'"),
        (lambda hook: hook.list_export_buckets(page_size=501), "items_per_page=501"),
        (lambda hook: hook.get_export_job("Cluster0", "x"), "export_id='x'"),
    ],
)
def test_bad_input_is_refused_before_any_request(emulator_hook, atlas_emulator, call, message):
    emulator_hook.get_project()
    atlas_emulator.stats.reset()

    with pytest.raises(AtlasInputError, match=message):
        call(emulator_hook)

    assert atlas_emulator.stats.count() == 0


def test_recorded_bucket_list_parses_through_the_hook_by_underscore_id(hook, requests_mock, recorded):
    answer = recorded("v2-exportbucket-list")
    requests_mock.get(
        f"{GROUP_URL}/backup/exportBuckets", status_code=200, json=answer["body"], headers=answer["headers"]
    )

    page = hook.get_export_buckets_page()

    assert page.results == answer["body"]["results"]
    assert page.total_count == 2508
    assert requests_mock.last_request.headers["Accept"] == "application/vnd.atlas.2024-05-30+json"


def test_recorded_bucket_and_export_create_parse_through_the_hook(hook, requests_mock, recorded):
    bucket, export = recorded("v2-exportbucket-create"), recorded("v2-export-create")
    requests_mock.get(
        f"{GROUP_URL}/backup/exportBuckets/{bucket['body']['_id']}",
        json=bucket["body"],
        headers=bucket["headers"],
    )
    requests_mock.post(
        f"{GROUP_URL}/clusters/{CLUSTER}/backup/exports", json=export["body"], headers=export["headers"]
    )

    got_bucket = hook.get_export_bucket(bucket["body"]["_id"])
    got_export = hook.create_export_job(
        CLUSTER, export["body"]["snapshotId"], export["body"]["exportBucketId"]
    )

    assert (got_bucket, got_export) == (bucket["body"], export["body"])
    assert ExportBucket.from_api(got_bucket).id == bucket["body"]["_id"]
    assert ExportJob.from_api(got_export).state is ExportJobState.QUEUED
