"""Collection restore jobs in the emulator: 201, states and document counts on the clock, collections."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.atlas_contract import V2_MEDIA_2025_03_12
from tests.testing.conftest import Urls

MEDIA = {"Accept": V2_MEDIA_2025_03_12, "Content-Type": V2_MEDIA_2025_03_12}
INITIALIZING, IN_PROGRESS, FINALIZING = 10.0, 100.0, 20.0


def jobs_url(urls: Urls, version: str = "v2") -> str:
    return f"{urls.group(version)}/clusters/Cluster0/collectionRestoreJobs"


def body_for(seed: Seed, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "snapshotId": seed.snapshot_id,
        "targetClusterName": "Cluster0",
        "targetGroupId": seed.group_id,
        "indexStrategy": "ALL",
        "writeStrategy": "CREATE_NEW",
        "collections": [
            {"sourceNamespace": "sales.orders", "targetNamespace": "staging.orders"},
            {"sourceNamespace": "sales.customers"},
        ],
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def create(session: requests.Session, urls: Urls, body: dict[str, Any]) -> requests.Response:
    return session.post(jobs_url(urls), json=body, headers=MEDIA)


@pytest.fixture
def timed(emu: AtlasEmulator) -> AtlasEmulator:
    timings = emu.backup_timings
    timings.collection_restore_initializing = INITIALIZING
    timings.collection_restore_in_progress = IN_PROGRESS
    timings.collection_restore_finalizing = FINALIZING
    return emu


def test_job_is_created_with_201_and_moves_through_its_states_counting_documents(
    timed: AtlasEmulator,
    clock: ManualClock,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    atlas_contract: Any,
) -> None:
    created = create(session, urls, body_for(seed, databaseSuffix="_restored"))
    assert created.status_code == 201, created.text
    atlas_contract.check(created)
    url = f"{jobs_url(urls)}/{created.json()['id']}"
    seen = []
    for step in (0, INITIALIZING, IN_PROGRESS / 2, IN_PROGRESS / 2, FINALIZING):
        clock.advance(step)
        job = session.get(url, headers=MEDIA)
        collections = session.get(f"{url}/collections", headers=MEDIA)
        atlas_contract.check(job)
        atlas_contract.check(collections)
        seen.append((job.json(), collections.json()["results"]))

    states = [job["state"] for job, _ in seen]
    assert states == ["INITIALIZING", "IN_PROGRESS", "IN_PROGRESS", "FINALIZING", "SUCCESSFUL"]
    total = created.json()["totalDocuments"]
    restored = [job["restoredDocuments"] for job, _ in seen]
    assert restored[0] == restored[1] == 0 < restored[2] < total == restored[3] == restored[4]
    assert seen[0][1] == []  # no collection states while INITIALIZING
    assert "finishedAt" not in seen[3][0]
    assert "finishedAt" in seen[4][0]
    final = {item["sourceNamespace"]: item for item in seen[4][1]}
    assert final["sales.orders"]["effectiveTargetNamespace"] == "staging_restored.orders"
    assert final["sales.customers"]["targetNamespace"] == "sales.customers"
    assert all(item["state"] == "SUCCESSFUL" for item in final.values())
    assert sum(item["totalDocuments"] for item in final.values()) == total


def test_collections_are_restored_one_after_the_other(
    timed: AtlasEmulator, clock: ManualClock, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job_id = create(session, urls, body_for(seed)).json()["id"]
    clock.advance(INITIALIZING + 1)

    states = [
        item["state"]
        for item in session.get(f"{jobs_url(urls)}/{job_id}/collections", headers=MEDIA).json()["results"]
    ]

    assert states == ["IN_PROGRESS", "NOT_STARTED"]


def test_failed_job_reports_its_error_and_per_collection_states(
    timed: AtlasEmulator,
    clock: ManualClock,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    atlas_contract: Any,
) -> None:
    job_id = create(session, urls, body_for(seed)).json()["id"]
    clock.advance(INITIALIZING + 1)
    timed.fail_collection_restore_job(
        seed.group_id,
        "Cluster0",
        job_id,
        "Target cluster ran out of disk.",
        collection_states={"sales.customers": "NOT_FOUND"},
    )
    clock.advance(IN_PROGRESS)

    job = session.get(f"{jobs_url(urls)}/{job_id}", headers=MEDIA)
    failed_only = session.get(
        f"{jobs_url(urls)}/{job_id}/collections", params={"state": "NOT_FOUND"}, headers=MEDIA
    )
    one = session.get(f"{jobs_url(urls)}/{job_id}/collections/sales.orders", headers=MEDIA)

    for resp in (job, failed_only, one):
        atlas_contract.check(resp)
    assert job.json()["state"] == "FAILED"
    assert job.json()["errorMessage"] == "Target cluster ran out of disk."
    assert job.json()["restoredDocuments"] < job.json()["totalDocuments"]
    assert [item["sourceNamespace"] for item in failed_only.json()["results"]] == ["sales.customers"]
    assert one.json()["state"] == "FAILED"


def test_jobs_are_listed_newest_first(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    ids = [create(session, urls, body_for(seed)).json()["id"] for _ in range(3)]

    listed = session.get(jobs_url(urls), params={"itemsPerPage": "2"}, headers=MEDIA)

    atlas_contract.check(listed)
    assert [job["id"] for job in listed.json()["results"]] == ids[::-1][:2]
    assert "next" in [link["rel"] for link in listed.json()["links"]]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"writeStrategy": None}, 400, "MISSING_ATTRIBUTE"),
        ({"indexStrategy": "SOME"}, 400, "INVALID_ENUM_VALUE"),
        ({"pointInTimeUtcSeconds": 1_786_000_000}, 400, "INVALID_ATTRIBUTE"),  # two sources
        ({"snapshotId": None}, 400, "INVALID_ATTRIBUTE"),  # no source
        ({"collections": [{"sourceNamespace": f"db.c{i}"} for i in range(101)]}, 400, "INVALID_ATTRIBUTE"),
        ({"collections": [{"sourceNamespace": "no-dot"}]}, 400, "INVALID_ATTRIBUTE"),
        ({"collections": None}, 400, "MISSING_ATTRIBUTE"),
        ({"pointInTimeUTCSeconds": 1}, 400, "INVALID_ATTRIBUTE"),  # the restore-job spelling
        ({"targetClusterName": "Missing"}, 404, "CLUSTER_NOT_FOUND"),
        ({"snapshotId": "0" * 24}, 404, "RESOURCE_NOT_FOUND"),
    ],
)
def test_create_body_is_checked_as_the_spec_says(
    emu: AtlasEmulator,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    atlas_contract: Any,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    body = body_for(seed)
    body.update(overrides)
    body = {key: value for key, value in body.items() if value is not None}

    resp = create(session, urls, body)

    assert (resp.status_code, resp.json()["errorCode"]) == (status, code)
    atlas_contract.check(resp)
    assert emu.stats.count(route="create_collection_restore_job", status=201) == 0


def test_only_v2_and_only_resource_version_2025_03_12(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    old_version = session.get(jobs_url(urls), headers={"Accept": "application/vnd.atlas.2023-01-01+json"})
    v1 = session.get(jobs_url(urls, "v1.0"), headers={"Accept": "application/json"})

    assert old_version.status_code == 406
    assert v1.status_code == 404
