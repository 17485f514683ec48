"""Export buckets and export jobs in the emulator: `_id`, versions, paging, states, the real prefix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.atlas_contract import V2_MEDIA_2024_05_30
from tests.testing.conftest import V2_MEDIA, Urls
from tests.testing.test_emulator_recorded import assert_like

ROLE = "c0123456789abcdef012345c"
QUEUED, IN_PROGRESS = 30.0, 900.0


def buckets_url(urls: Urls) -> str:
    return f"{urls.group()}/backup/exportBuckets"


def exports_url(urls: Urls, cluster: str = "Cluster0") -> str:
    return f"{urls.cluster(cluster)}/exports"


def create_bucket(
    session: requests.Session, urls: Urls, body: dict[str, Any], media: str = V2_MEDIA_2024_05_30
):
    return session.post(buckets_url(urls), json=body, headers={"Accept": media, "Content-Type": media})


def create_export(session: requests.Session, urls: Urls, body: dict[str, Any], cluster: str = "Cluster0"):
    return session.post(exports_url(urls, cluster), json=body, headers={"Content-Type": V2_MEDIA})


@pytest.fixture
def bucket_id(emu: AtlasEmulator, seed: Seed) -> str:
    return str(emu.add_export_bucket(seed.group_id, "exports-bucket")["_id"])


@pytest.mark.parametrize(
    "body",
    [
        {"cloudProvider": "AWS", "bucketName": "test-bucket", "iamRoleId": ROLE},
        {"cloudProvider": "GCP", "bucketName": "test-bucket", "roleId": ROLE},
        {
            "cloudProvider": "AZURE",
            "roleId": ROLE,
            "serviceUrl": "https://examplestorageaccount.blob.core.windows.net/examplecontainer",
        },
    ],
    ids=["AWS", "GCP", "AZURE"],
)
def test_bucket_of_each_provider_is_created_and_read_with_underscore_id(
    session: requests.Session, urls: Urls, atlas_contract: Any, body: dict[str, Any]
) -> None:
    created = create_bucket(session, urls, body)
    assert created.status_code == 200, created.text
    atlas_contract.check(created)
    bucket = created.json()
    one = session.get(f"{buckets_url(urls)}/{bucket['_id']}", headers={"Accept": V2_MEDIA_2024_05_30})
    atlas_contract.check(one)

    assert "id" not in bucket
    assert "links" not in bucket
    assert bucket["cloudProvider"] == body["cloudProvider"]
    assert created.headers["Content-Type"] == f"{V2_MEDIA_2024_05_30};charset=utf-8"
    assert ("region" in one.json()) == (body["cloudProvider"] == "AWS")
    assert "region" not in bucket
    if body["cloudProvider"] == "AZURE":
        assert bucket["bucketName"] == "examplecontainer"  # computed from serviceUrl


def test_sunset_bucket_version_knows_aws_only_and_says_it_is_sunset(
    session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    aws = create_bucket(
        session, urls, {"cloudProvider": "AWS", "bucketName": "b-aws", "iamRoleId": ROLE}, V2_MEDIA
    )
    gcp = create_bucket(
        session, urls, {"cloudProvider": "GCP", "bucketName": "b-gcp", "roleId": ROLE}, V2_MEDIA
    )

    assert aws.status_code == 200
    assert aws.headers["Sunset"] == "Thu, 1 Jul 2027 00:00:00 GMT"
    assert gcp.status_code == 400
    assert gcp.json()["errorCode"] == "INVALID_ENUM_VALUE"
    atlas_contract.check(gcp)


def test_thousands_of_buckets_are_paged_with_next_links(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    ids = emu.add_export_buckets(seed.group_id, 2508, bucket_name="test-bucket")
    headers = {"Accept": V2_MEDIA_2024_05_30}

    first = session.get(buckets_url(urls), headers=headers)
    last = session.get(buckets_url(urls), params={"pageNum": "26"}, headers=headers)

    atlas_contract.check(first)
    assert first.json()["totalCount"] == 2508
    assert [item["_id"] for item in first.json()["results"]] == ids[:100]
    assert "next" in [link["rel"] for link in first.json()["links"]]
    assert len(last.json()["results"]) == 8
    assert "next" not in [link["rel"] for link in last.json()["links"]]


def test_unknown_bucket_answers_404_and_a_bad_id_400(
    session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    missing = session.get(f"{buckets_url(urls)}/{'0' * 24}", headers={"Accept": V2_MEDIA_2024_05_30})
    malformed = session.get(f"{buckets_url(urls)}/nope", headers={"Accept": V2_MEDIA_2024_05_30})

    assert (missing.status_code, malformed.status_code) == (404, 400)
    for resp in (missing, malformed):
        atlas_contract.check(resp)


def test_export_job_is_queued_then_in_progress_then_successful_with_the_real_prefix(
    emu: AtlasEmulator,
    clock: ManualClock,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    bucket_id: str,
    atlas_contract: Any,
) -> None:
    emu.backup_timings.export_queued, emu.backup_timings.export_in_progress = QUEUED, IN_PROGRESS
    created_at = clock.now()
    created = create_export(
        session,
        urls,
        {
            "snapshotId": seed.snapshot_id,
            "exportBucketId": bucket_id,
            "customData": [{"key": "k", "value": "v"}],
        },
    )
    assert created.status_code == 200, created.text
    atlas_contract.check(created)
    url = f"{exports_url(urls)}/{created.json()['id']}"
    states = []
    for step in (QUEUED, IN_PROGRESS):
        clock.advance(step)
        resp = session.get(url)
        atlas_contract.check(resp)
        states.append(resp.json())
    listed = session.get(exports_url(urls))
    atlas_contract.check(listed)

    job = created.json()
    org_id = emu.store.project(seed.group_id).org_id
    snapshot_time = seed.snapshots[0]["createdAt"]
    stamp = re.sub(r"^(\d{4}-\d\d-\d\dT\d\d):(\d\d):\d\dZ$", r"\1\2", snapshot_time)
    assert job["prefix"] == f"exported_snapshots/{org_id}/{seed.group_id}/Cluster0/{stamp}/{int(created_at)}"
    assert (job["state"], job["customData"]) == ("Queued", [{"key": "k", "value": "v"}])
    assert "finishedAt" not in job
    assert "components" not in job
    assert [s["state"] for s in states] == ["InProgress", "Successful"]
    assert "finishedAt" not in states[0]
    assert states[1]["finishedAt"] == iso_utc(created_at + QUEUED + IN_PROGRESS)
    assert all(s["exportStatus"] == {"exportedCollections": 0, "totalCollections": 0} for s in [job, *states])
    assert [item["id"] for item in listed.json()["results"]] == [job["id"]]


def test_failed_and_cancelled_exports_carry_a_state_reason(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, bucket_id: str, atlas_contract: Any
) -> None:
    emu.backup_timings.export_in_progress = IN_PROGRESS
    ids = [
        create_export(session, urls, {"snapshotId": seed.snapshot_id, "exportBucketId": bucket_id}).json()[
            "id"
        ]
        for _ in range(2)
    ]
    emu.fail_export_job(seed.group_id, "Cluster0", ids[0], message="Access denied to the bucket.")
    emu.set_export_job_state(seed.group_id, "Cluster0", ids[1], "Cancelled")

    answers = [session.get(f"{exports_url(urls)}/{export_id}") for export_id in ids]

    for resp in answers:
        atlas_contract.check(resp)
    failed, cancelled = (resp.json() for resp in answers)
    assert failed["state"] == "Failed"
    assert failed["stateReason"]["message"] == "Access denied to the bucket."
    assert cancelled["state"] == "Cancelled"
    assert "errorCode" in cancelled["stateReason"]
    assert "finishedAt" in failed
    assert "finishedAt" in cancelled


def test_sharded_cluster_export_lists_one_component_per_shard(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, bucket_id: str, atlas_contract: Any
) -> None:
    snapshot_id = seed.sharded_snapshots[0]["id"]

    created = create_export(
        session, urls, {"snapshotId": snapshot_id, "exportBucketId": bucket_id}, "Sharded0"
    )

    atlas_contract.check(created)
    shards = [
        name for name in emu.store.cluster(seed.group_id, "Sharded0").replica_set_names if "shard" in name
    ]
    assert [item["replicaSetName"] for item in created.json()["components"]] == shards


def test_export_needs_a_completed_snapshot_and_a_known_bucket(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, bucket_id: str, atlas_contract: Any
) -> None:
    running = emu.add_snapshot(seed.group_id, "Cluster0", status="inProgress")
    answers = [
        create_export(session, urls, {"snapshotId": running["id"], "exportBucketId": bucket_id}),
        create_export(session, urls, {"snapshotId": seed.snapshot_id, "exportBucketId": "0" * 24}),
        create_export(session, urls, {"snapshotId": seed.snapshot_id}),
        create_export(
            session, urls, {"snapshotId": seed.snapshot_id, "exportBucketId": bucket_id, "customData": "x"}
        ),
    ]

    assert [(a.status_code, a.json()["errorCode"]) for a in answers] == [
        (400, "INVALID_ATTRIBUTE"),
        (404, "RESOURCE_NOT_FOUND"),
        (400, "MISSING_ATTRIBUTE"),
        (400, "INVALID_ATTRIBUTE"),
    ]
    for answer in answers:
        atlas_contract.check(answer)


def test_answers_look_like_the_recorded_ones(
    atlas_shared_dir: Path, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    bucket = create_bucket(
        session, urls, {"cloudProvider": "AWS", "bucketName": "test-bucket", "iamRoleId": ROLE}
    )
    assert_like(atlas_shared_dir, "v2-exportbucket-create", bucket)
    emu.add_export_buckets(seed.group_id, 150, bucket_name="test-bucket")
    listed = session.get(buckets_url(urls), headers={"Accept": V2_MEDIA_2024_05_30})
    assert_like(atlas_shared_dir, "v2-exportbucket-list", listed)
    export = create_export(
        session, urls, {"snapshotId": seed.snapshot_id, "exportBucketId": bucket.json()["_id"]}
    )
    assert_like(atlas_shared_dir, "v2-export-create", export)
