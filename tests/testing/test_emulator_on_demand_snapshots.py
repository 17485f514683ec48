"""On-demand snapshots in the emulator: queued, inProgress, completed on the clock, one at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, AtlasError, ManualClock
from airflow_provider_atlas_restore.testing.backup_state import SNAPSHOT_IN_PROGRESS_CODE
from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import V2_CONTENT_TYPE, V2_MEDIA, Urls
from tests.testing.test_emulator_recorded import assert_like

QUEUED, IN_PROGRESS = 60.0, 120.0
DAY = 86_400


@pytest.fixture
def timed(emu: AtlasEmulator) -> AtlasEmulator:
    """The emulator with snapshots queued 60 s, then in progress 120 s."""
    emu.backup_timings.snapshot_queued = QUEUED
    emu.backup_timings.snapshot_in_progress = IN_PROGRESS
    return emu


def take(
    session: requests.Session, urls: Urls, body: dict[str, Any] | None = None, cluster: str = "Cluster0"
):
    return session.post(urls.snapshots(cluster), json=body or {}, headers={"Content-Type": V2_MEDIA})


def test_snapshot_moves_from_queued_to_completed_with_the_recorded_fields(
    timed: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    requested = clock.now()
    taken = take(session, urls, {"description": "nightly", "retentionInDays": 2})
    assert taken.status_code == 200, taken.text
    atlas_contract.check(taken)
    body = taken.json()
    url = f"{urls.snapshots()}/{body['id']}"
    seen = []
    for step in (0, QUEUED / 2, QUEUED / 2, IN_PROGRESS / 2, IN_PROGRESS / 2):
        clock.advance(step)
        resp = session.get(url)
        atlas_contract.check(resp)
        seen.append(resp.json())

    assert body["status"] == "queued"
    assert (body["frequencyType"], body["snapshotType"], body["type"]) == (
        "ondemand",
        "onDemand",
        "replicaSet",
    )
    assert (body["replicaSetName"], body["description"]) == ("Cluster0", "nightly")
    assert (body["policyItems"], body["copyRegions"], body["storageSizeBytes"]) == ([], [], 0)
    assert "createdAt" not in body
    assert "cloudProvider" not in body
    assert [snap["status"] for snap in seen] == ["queued", "queued", "inProgress", "inProgress", "completed"]
    assert all(snap["storageSizeBytes"] == 0 and "createdAt" not in snap for snap in seen[:-1])
    assert "mongodVersion" not in seen[2]
    assert "mongodVersion" in seen[3]
    done = seen[-1]
    assert done["storageSizeBytes"] > 0
    assert done["cloudProvider"] == "AWS"
    # createdAt is when the snapshot was taken; expiresAt moves from request + 2 days to completion + 2 days.
    assert done["createdAt"] == iso_utc(requested + QUEUED)
    assert body["expiresAt"] == iso_utc(requested + 2 * DAY)
    assert done["expiresAt"] == iso_utc(requested + QUEUED + IN_PROGRESS + 2 * DAY)


def test_second_snapshot_while_one_runs_is_refused_until_it_completes(
    timed: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls, atlas_contract: Any
) -> None:
    first = take(session, urls).json()

    refused = take(session, urls)
    clock.advance(QUEUED + IN_PROGRESS)
    second = take(session, urls)

    assert refused.status_code == 400
    assert refused.json()["errorCode"] == SNAPSHOT_IN_PROGRESS_CODE
    assert first["id"] in refused.json()["detail"]
    atlas_contract.check(refused)
    assert second.status_code == 200
    assert second.json()["id"] != first["id"]
    assert timed.stats.count(route="take_snapshot", status=400) == 1


def test_rule_is_per_cluster(timed: AtlasEmulator, session: requests.Session, urls: Urls, seed: Seed) -> None:
    take(session, urls)

    other = take(session, urls, cluster="Sharded0")

    assert other.status_code == 200
    assert other.json()["type"] == "shardedCluster"


def test_failed_snapshot_frees_the_cluster_and_stays_failed(
    timed: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls, seed: Seed
) -> None:
    snap = take(session, urls).json()
    timed.fail_snapshot(seed.group_id, "Cluster0", snap["id"])
    clock.advance(QUEUED + IN_PROGRESS)

    assert session.get(f"{urls.snapshots()}/{snap['id']}").json()["status"] == "failed"
    assert take(session, urls).status_code == 200


def test_completed_on_demand_snapshot_is_listed_and_restorable(
    timed: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls, seed: Seed
) -> None:
    snap = take(session, urls).json()
    refused = session.post(
        urls.jobs(),
        json={"deliveryType": "download", "snapshotId": snap["id"]},
        headers={"Content-Type": V2_MEDIA},
    )
    timed.complete_snapshot(seed.group_id, "Cluster0", snap["id"])
    created = session.post(
        urls.jobs(),
        json={"deliveryType": "download", "snapshotId": snap["id"]},
        headers={"Content-Type": V2_MEDIA},
    )

    listed = session.get(urls.snapshots()).json()["results"]
    assert snap["id"] in [item["id"] for item in listed]
    assert refused.status_code == 400
    assert created.status_code == 200


def test_delete_answers_204_then_the_snapshot_is_gone(
    emu: AtlasEmulator, session: requests.Session, urls: Urls, seed: Seed, atlas_contract: Any
) -> None:
    url = f"{urls.snapshots()}/{seed.snapshot_id}"

    deleted = session.delete(url)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert deleted.headers["Content-Type"] == V2_CONTENT_TYPE
    atlas_contract.check(deleted)
    assert session.get(url).status_code == 404
    assert session.delete(url).status_code == 404


def test_retention_change_moves_expires_at(
    emu: AtlasEmulator, session: requests.Session, urls: Urls, seed: Seed, atlas_contract: Any
) -> None:
    url = f"{urls.snapshots()}/{seed.snapshot_id}"
    before = session.get(url).json()["expiresAt"]

    changed = session.patch(
        url, json={"retentionUnit": "WEEKS", "retentionValue": 3}, headers={"Content-Type": V2_MEDIA}
    )

    assert changed.status_code == 200, changed.text
    atlas_contract.check(changed)
    assert changed.json()["expiresAt"] > before
    assert session.get(url).json()["expiresAt"] == changed.json()["expiresAt"]


@pytest.mark.parametrize(
    ("method", "body", "code"),
    [
        ("POST", {"retentionInDays": 0}, "INVALID_ATTRIBUTE"),
        ("POST", {"retention": 1}, "INVALID_ATTRIBUTE"),
        ("PATCH", {"retentionUnit": "days", "retentionValue": 1}, "INVALID_ENUM_VALUE"),
        ("PATCH", {"retentionUnit": "DAYS"}, "MISSING_ATTRIBUTE"),
    ],
)
def test_bad_bodies_are_refused_as_atlas_does(
    emu: AtlasEmulator,
    session: requests.Session,
    urls: Urls,
    seed: Seed,
    atlas_contract: Any,
    method: str,
    body: dict[str, Any],
    code: str,
) -> None:
    url = urls.snapshots() if method == "POST" else f"{urls.snapshots()}/{seed.snapshot_id}"

    resp = session.request(method, url, json=body, headers={"Content-Type": V2_MEDIA})

    assert resp.status_code == 400
    assert resp.json()["errorCode"] == code
    atlas_contract.check(resp)


def test_add_on_demand_snapshot_follows_the_same_rule(emu: AtlasEmulator, seed: Seed) -> None:
    snap = emu.add_on_demand_snapshot(seed.group_id, "Cluster0", queued_seconds=10, in_progress_seconds=10)

    with pytest.raises(AtlasError, match=SNAPSHOT_IN_PROGRESS_CODE):
        emu.add_on_demand_snapshot(seed.group_id, "Cluster0")
    assert snap["status"] == "queued"
    assert emu.add_on_demand_snapshot(seed.group_id, "Cluster0", one_at_a_time=False)["status"] == "completed"


def test_answers_look_like_the_recorded_ones(
    atlas_shared_dir: Path, timed: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls
) -> None:
    taken = take(session, urls, {"description": "test-snapshot", "retentionInDays": 1})
    assert_like(atlas_shared_dir, "v2-snapshot-take", taken)
    url = f"{urls.snapshots()}/{taken.json()['id']}"
    clock.advance(QUEUED)
    assert_like(atlas_shared_dir, "v2-snapshot-get-inprogress", session.get(url))
    clock.advance(IN_PROGRESS)
    assert_like(atlas_shared_dir, "v2-snapshot-get-completed", session.get(url))
