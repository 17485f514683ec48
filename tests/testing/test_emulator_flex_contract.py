"""Every flex answer of the emulator validates against the spec and has the recorded answers' fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.atlas_contract import V2_MEDIA_2024_08_05, Contract
from tests.testing.conftest import V2_MEDIA, FlexUrls, Urls, flex_post

FLEX_STATUSES = ("PENDING", "QUEUED", "RUNNING", "COMPLETED", "FAILED")
READY_AFTER = 400.0  # PENDING for 100 s, QUEUED until 200 s, RUNNING until 400 s


@pytest.fixture(scope="module")
def contract(atlas_shared_dir: Path) -> Contract:
    return Contract(atlas_shared_dir)


def recorded(shared_dir: Path, name: str) -> dict[str, Any]:
    """Return one recording of ``shared/atlas-api/recorded``."""
    data: dict[str, Any] = json.loads((shared_dir / "recorded" / name).read_text())
    return data


def jobs_in_every_status(emu: AtlasEmulator, seed: Seed) -> dict[str, str]:
    """Make one flex job in each status now; return ``{status: job id}``."""
    jobs: dict[str, str] = {}
    for status in FLEX_STATUSES:
        job_id = emu.add_flex_restore_job(seed.group_id, "Flex0", ready_after=READY_AFTER)["id"]
        jobs[status] = job_id
        if status != "PENDING":
            emu.set_job_state(seed.group_id, "Flex0", job_id, status)
    return jobs


@pytest.mark.parametrize("envelope", [False, True])
def test_every_flex_resource_answer_matches_the_spec(
    contract: Contract,
    emu: AtlasEmulator,
    flex_seed: Seed,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
    envelope: bool,
) -> None:
    params = {"envelope": "true"} if envelope else {}
    jobs = jobs_in_every_status(emu, flex_seed)
    snapshot_id = flex_seed.flex_snapshots[0]["id"]
    answers = [
        flex_session.get(flex_urls.cluster(), params=params),
        flex_session.get(flex_urls.snapshots(), params=params),
        flex_session.get(flex_urls.snapshots(), params={"itemsPerPage": "1", **params}),
        flex_session.get(f"{flex_urls.snapshots()}/{snapshot_id}", params=params),
        flex_session.get(flex_urls.jobs(), params={"itemsPerPage": "2", **params}),
        *(flex_session.get(flex_urls.job(job_id), params=params) for job_id in jobs.values()),
        flex_post(
            flex_session,
            flex_urls.jobs(),
            {"snapshotId": snapshot_id, "targetDeploymentItemName": "Cluster0"},
            params,
        ),
        flex_post(flex_session, flex_urls.download(), {"snapshotId": snapshot_id}, params),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/vnd.atlas.2024-11-13+json;charset=utf-8"
        contract.check(answer, envelope=envelope)
    statuses = [flex_session.get(flex_urls.job(job_id)).json()["status"] for job_id in jobs.values()]
    assert statuses == list(FLEX_STATUSES)


def test_every_flex_error_answer_matches_the_spec(
    contract: Contract,
    emu: AtlasEmulator,
    flex_seed: Seed,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
) -> None:
    answers = {
        400: [
            flex_session.get(flex_urls.jobs("Cluster0")),
            flex_session.get(flex_urls.snapshots("Cluster0")),
            flex_session.get(f"{flex_urls.snapshots('Cluster0')}/{'0' * 24}"),
            flex_post(flex_session, flex_urls.jobs(), {"snapshotId": flex_seed.flex_snapshots[0]["id"]}),
            flex_post(flex_session, flex_urls.download(), {}),
            flex_session.get(flex_urls.jobs(), params={"itemsPerPage": "501"}),
        ],
        404: [
            flex_session.get(flex_urls.cluster("Missing")),
            flex_session.get(flex_urls.job("0" * 24)),
            flex_session.get(f"{flex_urls.snapshots()}/{'0' * 24}"),
        ],
        406: [flex_session.get(flex_urls.jobs(), headers={"Accept": V2_MEDIA})],
    }
    for status, group in answers.items():
        for answer in group:
            assert answer.status_code == status, answer.text
            assert answer.headers["Content-Type"] == "application/json"
            contract.check(answer)


@pytest.mark.parametrize("accept", [V2_MEDIA_2024_08_05, V2_MEDIA])
def test_cluster_api_answers_about_flex_clusters_match_the_spec(
    contract: Contract, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, accept: str
) -> None:
    emu.add_flex_cluster(seed.group_id, "Flex0")
    emu.add_flex_cluster(seed.group_id, "Migrated0", served_by_cluster_api=True)
    refused = session.get(f"{urls.group()}/clusters/Flex0", headers={"Accept": accept})
    served = session.get(f"{urls.group()}/clusters/Migrated0", headers={"Accept": accept})

    assert refused.status_code == 400
    assert served.status_code == 200, served.text
    for answer in (refused, served):
        contract.check(answer)


def same_shape(ours: Any, theirs: Any) -> dict[str, str]:
    """Return the differences of field names and JSON types between two answers (empty when alike)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        differences: dict[str, str] = {}
        for key in sorted(set(ours) | set(theirs)):
            if key not in ours or key not in theirs:
                differences[key] = (
                    "only in " + ("the emulator's" if key in ours else "the recorded") + " answer"
                )
            else:
                differences.update({f"{key}.{k}": v for k, v in same_shape(ours[key], theirs[key]).items()})
        return differences
    if isinstance(theirs, list) and isinstance(ours, list) and theirs and ours:
        return same_shape(ours[0], theirs[0])
    if type(ours) is not type(theirs):
        return {"": f"{type(ours).__name__} where the recording has {type(theirs).__name__}"}
    return {}


@pytest.mark.parametrize(
    ("recording", "status"),
    [
        ("v2-flex-create-restore-automated.json", None),
        ("v2-flex-get-restore-running.json", "RUNNING"),
        ("v2-flex-get-restore-ready.json", "COMPLETED"),
        ("v2-flex-list-restores.json", "COMPLETED"),
        ("v2-flex-list-snapshots.json", None),
        ("v2-flexcluster-get.json", None),
    ],
)
def test_flex_answers_have_the_recorded_fields_and_types(
    atlas_shared_dir: Path,
    emu: AtlasEmulator,
    flex_seed: Seed,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
    recording: str,
    status: str | None,
) -> None:
    real = recorded(atlas_shared_dir, recording)
    snapshot_id = flex_seed.flex_snapshots[-1]["id"]
    emu.ready_after = READY_AFTER
    created = flex_post(
        flex_session, flex_urls.jobs(), {"snapshotId": snapshot_id, "targetDeploymentItemName": "Cluster0"}
    )
    job_id = created.json()["id"]
    if status is not None:
        emu.set_job_state(flex_seed.group_id, "Flex0", job_id, status)
    ours = {
        "v2-flex-create-restore-automated.json": created,
        "v2-flex-get-restore-running.json": flex_session.get(flex_urls.job(job_id)),
        "v2-flex-get-restore-ready.json": flex_session.get(flex_urls.job(job_id)),
        "v2-flex-list-restores.json": flex_session.get(flex_urls.jobs()),
        "v2-flex-list-snapshots.json": flex_session.get(flex_urls.snapshots()),
        "v2-flexcluster-get.json": flex_session.get(flex_urls.cluster()),
    }[recording]

    assert ours.status_code == real["status"]
    assert ours.headers["Content-Type"] == real["headers"]["Content-Type"]
    assert same_shape(ours.json(), real["body"]) == {}


@pytest.mark.parametrize(
    ("recording", "family"),
    [
        ("v2-error-400-cluster-api.json", "cluster"),
        ("v2-error-400-flex-api.json", "flex"),
        ("v2-error-400-flex-api-snapshot.json", "flex"),
    ],
)
def test_cross_family_errors_are_the_recorded_ones(
    atlas_shared_dir: Path,
    flex_seed: Seed,
    session: requests.Session,
    flex_session: requests.Session,
    urls: Urls,
    flex_urls: FlexUrls,
    recording: str,
    family: str,
) -> None:
    real = recorded(atlas_shared_dir, recording)
    if family == "cluster":
        ours = session.get(f"{urls.group()}/clusters/Flex0", headers={"Accept": V2_MEDIA_2024_08_05})
        name = "Flex0"
    else:
        ours = flex_session.get(f"{flex_urls.snapshots('Cluster0')}/{'0' * 24}")
        name = "Cluster0"
    placeholder = real["body"]["parameters"][0]

    assert ours.status_code == real["status"]
    assert ours.headers["X-Error-Code"] == real["headers"]["X-Error-Code"]
    assert ours.json() == {
        **real["body"],
        "detail": real["body"]["detail"].replace(placeholder, name),
        "parameters": [name],
    }
