"""Restore-job life on the manual clock, create validation, lookups and API versions."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.clock import DEFAULT_START, iso_utc
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import V2_CONTENT_TYPE, V2_MEDIA, Urls, create_job


def test_download_job_is_pending_then_ready_then_expires_on_the_clock(
    emu: AtlasEmulator, clock: ManualClock, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.ready_after = 30
    created = create_job(session, urls.jobs(), {"deliveryType": "download", "snapshotId": seed.snapshot_id})
    assert created.status_code == 200
    assert created.json()["deliveryUrl"] == []
    job_url = urls.job(created.json()["id"])
    clock.advance(29)
    pending = session.get(job_url).json()
    assert pending["deliveryUrl"] == []
    assert "expiresAt" not in pending
    clock.advance(1)
    ready = session.get(job_url).json()
    [url] = ready["deliveryUrl"]
    assert url.startswith(f"{emu.base_url}/backup/download/")
    assert url.endswith(f"/restore-{seed.snapshot_id}.tar.gz")
    assert ready["expiresAt"] == iso_utc(clock.now() + 3600)
    assert ready["expiresAt"].endswith("Z")
    assert "finishedAt" not in ready
    assert ready["timestamp"] == seed.snapshots[0]["createdAt"]
    clock.advance(3600)
    expired = session.get(job_url).json()
    assert expired["expired"] is True
    assert expired["deliveryUrl"] == []


def test_sharded_download_job_has_one_component_per_replica_set(
    emu: AtlasEmulator, clock: ManualClock, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job = emu.add_restore_job(seed.group_id, "Sharded0", ready_after=10)
    names = [c["replicaSetName"] for c in job["components"]]
    assert len(names) == 3
    assert names[0].endswith("-shard-0")
    assert names[1].endswith("-shard-1")
    assert names[2].endswith("-config-0")
    assert all(c["downloadUrl"] is None for c in job["components"])
    clock.advance(10)
    ready = session.get(urls.job(job["id"], "Sharded0")).json()
    assert ready["deliveryUrl"] == [c["downloadUrl"] for c in ready["components"]]
    assert len(set(ready["deliveryUrl"])) == 3
    member_ids = [m["id"] for m in seed.sharded_snapshots[0]["members"]]
    assert [u.rsplit("/", 1)[1] for u in ready["deliveryUrl"]] == [f"restore-{m}.tar.gz" for m in member_ids]


def test_automated_and_point_in_time_jobs_get_finished_at_after_their_delay(
    emu: AtlasEmulator, clock: ManualClock, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.ready_after = 120
    target = {"targetClusterName": "Cluster0", "targetGroupId": seed.group_id}
    bodies: list[dict[str, Any]] = [
        {"deliveryType": "automated", "snapshotId": seed.snapshot_id, **target},
        {"deliveryType": "pointInTime", "pointInTimeUTCSeconds": int(clock.now()) - 10, **target},
        {"deliveryType": "pointInTime", "oplogTs": int(clock.now()) - 10, "oplogInc": 2, **target},
    ]
    ids = [create_job(session, urls.jobs(), body).json()["id"] for body in bodies]
    assert all("finishedAt" not in session.get(urls.job(i)).json() for i in ids)
    clock.advance(120)
    for job_id in ids:
        job = session.get(urls.job(job_id)).json()
        assert job["finishedAt"] == iso_utc(clock.now())
        assert job["targetClusterName"] == "Cluster0"
        assert job["targetDeploymentItemName"].startswith("atlas-")
        assert job["deliveryUrl"] == []


def test_failed_cancelled_and_removed_jobs(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    g = seed.group_id
    failing = emu.add_restore_job(g, "Cluster0", ready_after=60)["id"]
    emu.fail_job(g, "Cluster0", failing)
    assert session.get(urls.job(failing)).json()["failed"] is True
    cancelling = emu.add_restore_job(g, "Cluster0", ready_after=60)["id"]
    assert session.delete(urls.job(cancelling)).status_code == 204
    assert session.get(urls.job(cancelling)).json()["cancelled"] is True
    emu.remove_job(g, "Cluster0", cancelling)
    gone = session.get(urls.job(cancelling))
    assert gone.status_code == 404
    assert gone.json()["errorCode"] == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize("state", ["ready", "cancelled", "failed", "expired"])
def test_cancel_is_refused_with_405_once_a_job_is_no_longer_pending(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, state: str
) -> None:
    g = seed.group_id
    job_id = emu.add_restore_job(g, "Cluster0", ready_after=0 if state == "ready" else 60)["id"]
    {"cancelled": emu.cancel_job, "failed": emu.fail_job, "expired": emu.expire_job}.get(
        state, lambda *a: None
    )(g, "Cluster0", job_id)
    resp = session.delete(urls.job(job_id))
    assert resp.status_code == 405
    assert resp.json()["errorCode"] == "CANNOT_CANCEL_RESTORE_JOB"


def test_cancel_of_a_sharded_cluster_job_is_refused(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job_id = emu.add_restore_job(seed.group_id, "Sharded0", ready_after=60)["id"]
    resp = session.delete(urls.job(job_id, "Sharded0"))
    assert resp.status_code == 405
    assert resp.headers["X-Error-Code"] == "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({}, "MISSING_ATTRIBUTE", "deliveryType"),
        ({"deliveryType": "teleport"}, "INVALID_ENUM_VALUE", "teleport"),
        ({"deliveryType": "download"}, "MISSING_ATTRIBUTE", "snapshotId"),
        ({"deliveryType": "download", "snapshotId": "xyz"}, "INVALID_ATTRIBUTE", "snapshotId"),
        ({"deliveryType": "automated", "snapshotId": "SNAP"}, "MISSING_ATTRIBUTE", "targetClusterName"),
        ({"deliveryType": "automated", "snapshotId": "SNAP", "targetClusterName": "Cluster0"}, "MISSING_ATTRIBUTE", "targetGroupId"),
        ({"deliveryType": "pointInTime", "targetClusterName": "Cluster0", "targetGroupId": "GROUP"}, "MISSING_ATTRIBUTE", "pointInTimeUTCSeconds"),
        ({"deliveryType": "pointInTime", "targetClusterName": "Cluster0", "targetGroupId": "GROUP", "oplogTs": 1786332000}, "MISSING_ATTRIBUTE", "oplogInc"),
        ({"deliveryType": "pointInTime", "targetClusterName": "Cluster0", "targetGroupId": "GROUP", "pointInTimeUTCSeconds": 1786332000, "oplogTs": 1786332000, "oplogInc": 1}, "INVALID_ATTRIBUTE", "pointInTimeUTCSeconds"),
        ({"deliveryType": "download", "snapshotId": "SNAP", "colour": "red"}, "INVALID_ATTRIBUTE", "colour"),
    ],
)  # fmt: skip
def test_create_validates_the_body_like_atlas(
    seed: Seed, session: requests.Session, urls: Urls, body: dict[str, Any], code: str, parameter: str
) -> None:
    body = {
        k: {"SNAP": seed.snapshot_id, "GROUP": seed.group_id}.get(v, v) if isinstance(v, str) else v
        for k, v in body.items()
    }
    resp = create_job(session, urls.jobs(), body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errorCode"] == code
    assert resp.json()["parameters"][0] == parameter


def test_create_rejects_malformed_json_unknown_snapshots_and_unknown_targets(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    bad = session.post(urls.jobs(), data=b"{not json", headers={"Content-Type": V2_MEDIA})
    assert (bad.status_code, bad.json()["errorCode"]) == (400, "INVALID_JSON")
    unknown = create_job(session, urls.jobs(), {"deliveryType": "download", "snapshotId": "0" * 24})
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, "RESOURCE_NOT_FOUND")
    queued = emu.add_snapshot(seed.group_id, "Cluster0", status="queued")
    not_done = create_job(session, urls.jobs(), {"deliveryType": "download", "snapshotId": queued["id"]})
    assert not_done.status_code == 400
    target = {"deliveryType": "automated", "snapshotId": seed.snapshot_id, "targetClusterName": "Nope"}
    no_cluster = create_job(session, urls.jobs(), {**target, "targetGroupId": seed.group_id})
    assert no_cluster.json()["errorCode"] == "CLUSTER_NOT_FOUND"
    no_group = create_job(session, urls.jobs(), {**target, "targetGroupId": "f" * 24})
    assert no_group.json()["errorCode"] == "GROUP_NOT_FOUND"


def test_unknown_and_malformed_path_parts(seed: Seed, session: requests.Session, urls: Urls) -> None:
    cases = {
        urls.jobs(group_id="f" * 24): (404, "GROUP_NOT_FOUND"),
        urls.jobs("Nope"): (404, "CLUSTER_NOT_FOUND"),
        urls.job("f" * 24): (404, "RESOURCE_NOT_FOUND"),
        urls.jobs(group_id="ABCDEF0123456789abcdef01"): (400, "INVALID_GROUP_ID"),
        urls.jobs("-bad"): (400, "INVALID_CLUSTER_NAME"),
        urls.job("1234"): (400, "INVALID_ATTRIBUTE"),
        f"{urls.snapshots()}/{seed.sharded_snapshots[0]['id']}": (404, "RESOURCE_NOT_FOUND"),
    }
    for url, (status, code) in cases.items():
        resp = session.get(url)
        assert (resp.status_code, resp.json()["errorCode"], resp.headers["X-Error-Code"]) == (
            status,
            code,
            code,
        ), url


def test_v2_needs_the_versioned_accept_header_and_v1_uses_plain_json(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    ok = session.get(urls.jobs())
    assert ok.headers["Content-Type"] == V2_CONTENT_TYPE
    assert "RateLimit-Limit" in ok.headers
    assert "RateLimit-Remaining" in ok.headers
    for accept in ("application/json", "*/*", "application/vnd.atlas.2024-08-05+json"):
        refused = session.get(urls.jobs(), headers={"Accept": accept})
        assert (refused.status_code, refused.json()["errorCode"]) == (406, "INVALID_ACCEPT_HEADER")
    v1 = session.get(urls.jobs(version="v1.0"), headers={"Accept": "application/json"})
    assert v1.status_code == 200
    assert v1.headers["Content-Type"] == "application/json"
    emu.v1_gone = True
    gone = session.get(urls.jobs(version="v1.0"))
    assert (gone.status_code, gone.json()["errorCode"]) == (410, "VERSION_GONE")


def test_v1_jobs_carry_created_at_and_v1_link_relations(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job = emu.add_restore_job(seed.group_id, "Cluster0")
    v1 = session.get(urls.job(job["id"], version="v1.0")).json()
    assert v1["createdAt"].endswith("Z")
    assert v1["links"][1]["rel"] == "http://mms.mongodb.com/snapshot"
    assert "createdAt" not in session.get(urls.job(job["id"])).json()


def test_unknown_paths_and_methods(emu: AtlasEmulator, session: requests.Session, urls: Urls) -> None:
    assert session.get(f"{emu.base_url}/api/atlas/v2/nothing").status_code == 404
    wrong_method = session.put(urls.jobs(), json={})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET, POST"


def test_ids_are_deterministic_for_a_seed_and_clock() -> None:
    def ids() -> list[str]:
        with AtlasEmulator(clock=ManualClock(DEFAULT_START), seed="same") as emu:
            gid = emu.add_project()
            emu.add_cluster(gid, "Cluster0")
            return [gid, emu.add_restore_job(gid, "Cluster0")["id"]]

    first, second = ids(), ids()
    assert first == second
    assert first[0].startswith(f"{int(DEFAULT_START):08x}")  # ObjectId-like: creation time first
    assert all(len(i) == 24 and i == i.lower() for i in first)


def test_manual_clock_starts_at_the_current_second_and_only_moves_forward() -> None:
    before = int(time.time())
    clock = ManualClock()
    assert before <= clock.now() <= time.time()
    assert clock.now() == int(clock.now())
    assert clock.advance(1.5) == clock.now()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(clock.now() - 1)
