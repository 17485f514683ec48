"""Every kind of answer the emulator gives validates against MongoDB's OpenAPI spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.atlas_contract import Contract
from tests.testing.conftest import V2_MEDIA, Urls, create_job
from tests.testing.states import LATER, jobs_in_every_state

VERSIONS = ["v2", "v1.0"]


@pytest.fixture(scope="module")
def contract(atlas_shared_dir: Path) -> Contract:
    return Contract(atlas_shared_dir)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("envelope", [False, True])
def test_job_in_every_state_matches_the_spec(
    contract: Contract,
    emu: AtlasEmulator,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    version: str,
    envelope: bool,
) -> None:
    jobs = jobs_in_every_state(emu, seed)
    params = {"envelope": "true"} if envelope else {}
    for state, (cluster, job_id) in jobs.items():
        resp = session.get(urls.job(job_id, cluster, version), params=params)
        assert resp.status_code == 200, (state, resp.text)
        contract.check(resp, envelope=envelope)
    for cluster in ("Cluster0", "Sharded0"):
        resp = session.get(urls.jobs(cluster, version), params={"itemsPerPage": "1", **params})
        assert resp.status_code == 200
        assert "next" in [link["rel"] for link in resp.json()["links"]]
        contract.check(resp, envelope=envelope)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("envelope", [False, True])
def test_snapshots_and_project_match_the_spec(
    contract: Contract, seed: Seed, session: requests.Session, urls: Urls, version: str, envelope: bool
) -> None:
    params = {"envelope": "true"} if envelope else {}
    sharded_id = seed.sharded_snapshots[0]["id"]
    for url in (
        urls.group(version),
        urls.snapshots(version=version),
        f"{urls.snapshots(version=version)}/{seed.snapshot_id}",
        f"{urls.snapshots('Sharded0', version)}/shardedClusters",
        f"{urls.snapshots('Sharded0', version)}/shardedCluster/{sharded_id}",
    ):
        resp = session.get(url, params=params)
        assert resp.status_code == 200, resp.text
        contract.check(resp, envelope=envelope)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("envelope", [False, True])
def test_project_list_pages_match_the_spec(
    contract: Contract,
    emu: AtlasEmulator,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    version: str,
    envelope: bool,
) -> None:
    second = emu.add_project("second")
    params = {"itemsPerPage": "1", **({"envelope": "true"} if envelope else {})}
    listed = f"{emu.base_url}/api/atlas/{version}/groups"
    first = session.get(listed, params=params)
    last = session.get(listed, params={**params, "pageNum": "2"})
    for resp in (first, last):
        assert resp.status_code == 200, resp.text
        contract.check(resp, envelope=envelope)
    assert [project["id"] for project in first.json()["results"] + last.json()["results"]] == [
        seed.group_id,
        second,
    ]
    assert first.json()["totalCount"] == 2
    assert "next" in [link["rel"] for link in first.json()["links"]]
    assert "next" not in [link["rel"] for link in last.json()["links"]]
    assert emu.stats.count("list_projects", "GET", 200) == 2


@pytest.mark.parametrize("version", VERSIONS)
def test_create_and_cancel_answers_match_the_spec(
    contract: Contract, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, version: str
) -> None:
    emu.ready_after = LATER
    bodies: list[dict[str, Any]] = [
        {"deliveryType": "download", "snapshotId": seed.snapshot_id},
        {
            "deliveryType": "automated",
            "snapshotId": seed.snapshot_id,
            "targetClusterName": "Cluster0",
            "targetGroupId": seed.group_id,
        },
        {
            "deliveryType": "pointInTime",
            "pointInTimeUTCSeconds": int(emu.clock.now()) - 60,
            "targetClusterName": "Cluster0",
            "targetGroupId": seed.group_id,
        },
    ]
    for body in bodies:
        created = create_job(session, urls.jobs(version=version), body)
        assert created.status_code == 200, created.text
        contract.check(created)
    cancelled = session.delete(urls.job(created.json()["id"], version=version))
    assert cancelled.status_code == 204
    assert cancelled.content == b""
    contract.check(cancelled)
    refused = session.delete(urls.job(created.json()["id"], version=version))
    assert refused.status_code == 405
    contract.check(refused)
    sharded = emu.add_restore_job(seed.group_id, "Sharded0", ready_after=LATER)
    refused_sharded = session.delete(urls.job(sharded["id"], "Sharded0", version))
    assert refused_sharded.json()["errorCode"] == "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED"
    contract.check(refused_sharded)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_error_answer_matches_the_spec(
    contract: Contract, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, version: str
) -> None:
    answers = [
        session.get(urls.jobs(version=version), params={"itemsPerPage": "501"}),
        session.get(urls.jobs(version=version, group_id="not-hex")),
        create_job(session, urls.jobs(version=version), {"deliveryType": "download"}),
        create_job(
            session, urls.jobs(version=version), {"deliveryType": "nope", "snapshotId": seed.snapshot_id}
        ),
        session.get(urls.jobs(version=version, group_id="0" * 24)),
        session.get(urls.jobs("Missing", version)),
        session.get(urls.job("0" * 24, version=version)),
        session.get(f"{urls.snapshots(version=version)}/{'0' * 24}"),
        requests.get(
            urls.jobs(version=version), auth=HTTPDigestAuth("pubkey", "wrong"), headers={"Accept": V2_MEDIA}
        ),
    ]
    for status in (429, 500, 503):
        emu.faults.add("list_restore_jobs", "status", status=status, retry_after=3)
        answers.append(session.get(urls.jobs(version=version)))
    emu.ip_access_denied = True
    answers.append(session.get(urls.jobs(version=version)))
    emu.ip_access_denied = False
    if version == "v2":
        answers.append(session.get(urls.jobs(), headers={"Accept": "application/json"}))  # 406
    else:
        emu.v1_gone = True
        answers.append(session.get(urls.jobs(version=version)))  # 410
    expected = [
        400,
        400,
        400,
        400,
        404,
        404,
        404,
        404,
        401,
        429,
        500,
        503,
        403,
        406 if version == "v2" else 410,
    ]
    assert [a.status_code for a in answers] == expected
    for answer in answers:
        assert answer.headers["Content-Type"] == "application/json"
        contract.check(answer)


def test_the_contract_check_rejects_an_answer_that_breaks_the_spec(
    contract: Contract, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.add_restore_job(seed.group_id, "Cluster0", id_is_not="checked", deliveryType="teleport")
    resp = session.get(urls.jobs())
    with pytest.raises(Exception, match=r"teleport|InvalidData|DataValidation"):
        contract.check(resp)
