"""Flex clusters in the emulator: job life on the clock, list orders, paging, create rules, family errors."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed, seed_demo
from tests.testing.atlas_contract import V2_MEDIA_2024_08_05
from tests.testing.conftest import FLEX_MEDIA, V2_MEDIA, FlexUrls, Urls, flex_post


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


def create_body(seed: Seed, **fields: Any) -> dict[str, Any]:
    return {"snapshotId": seed.flex_snapshots[-1]["id"], "targetDeploymentItemName": "Cluster0", **fields}


def all_pages(session: requests.Session, url: str, per_page: int) -> tuple[list[str], int]:
    """Follow ``next`` links from page 1; return every listed id and the number of pages."""
    ids: list[str] = []
    pages = 0
    next_url: str | None = url
    params: dict[str, str] | None = {"itemsPerPage": str(per_page)}
    while next_url:
        page = session.get(next_url, params=params).json()
        params = None  # the next link carries the query
        pages += 1
        ids.extend(item["id"] for item in page["results"])
        next_url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return ids, pages


def test_flex_job_goes_pending_queued_running_completed_on_the_clock(
    emu: AtlasEmulator,
    flex_seed: Seed,
    clock: ManualClock,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
) -> None:
    emu.ready_after = 80
    created = flex_post(flex_session, flex_urls.jobs(), create_body(flex_seed)).json()
    seen = [created["status"]]
    finished = []
    for _ in range(4):
        clock.advance(20)
        job = flex_session.get(flex_urls.job(created["id"])).json()
        seen.append(job["status"])
        finished.append("restoreFinishedDate" in job)

    assert seen == ["PENDING", "QUEUED", "RUNNING", "RUNNING", "COMPLETED"]
    assert finished == [False, False, False, True]
    assert parse_time(job["restoreFinishedDate"]) == parse_time(created["restoreScheduledDate"]) + timedelta(
        seconds=80
    )
    assert parse_time(job["expirationDate"]) == parse_time(job["restoreScheduledDate"]) + timedelta(hours=6)
    assert (job["deliveryType"], job["instanceName"], job["targetDeploymentItemName"]) == (
        "RESTORE",
        "Flex0",
        "Cluster0",
    )
    assert job["targetProjectId"] == job["projectId"] == flex_seed.group_id


def test_job_controls_take_flex_jobs_with_the_same_arguments(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    group = flex_seed.group_id
    failing = emu.add_flex_restore_job(group, "Flex0", ready_after=600)["id"]
    finishing = emu.add_flex_restore_job(group, "Flex0", ready_after=600)["id"]
    removed = emu.add_flex_restore_job(group, "Flex0")["id"]
    emu.fail_job(group, "Flex0", failing)
    emu.finish_job(group, "Flex0", finishing)
    emu.remove_job(group, "Flex0", removed)

    failed = flex_session.get(flex_urls.job(failing)).json()
    assert (failed["status"], "restoreFinishedDate" in failed) == ("FAILED", False)
    assert emu.restore_job(group, "Flex0", finishing)["status"] == "COMPLETED"
    assert flex_session.get(flex_urls.job(removed)).json()["errorCode"] == "RESOURCE_NOT_FOUND"
    emu.set_job_state(group, "Flex0", finishing, "RUNNING")
    assert emu.restore_job(group, "Flex0", finishing)["status"] == "RUNNING"
    for no_such_state in ("cancelled", "expired"):
        with pytest.raises(ValueError, match="status"):
            emu.set_job_state(group, "Flex0", failing, no_such_state)


def test_flex_snapshots_list_oldest_first_and_jobs_newest_first(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    newest = emu.add_flex_snapshot(flex_seed.group_id, "Flex0")  # made last, scheduled now
    jobs = [emu.add_flex_restore_job(flex_seed.group_id, "Flex0")["id"] for _ in range(3)]

    snapshots = [snap["scheduledTime"] for snap in flex_session.get(flex_urls.snapshots()).json()["results"]]
    listed_jobs = [job["id"] for job in flex_session.get(flex_urls.jobs()).json()["results"]]

    assert snapshots == sorted(snapshots)
    assert snapshots[-1] == newest["scheduledTime"]
    assert listed_jobs == jobs[::-1]


@pytest.mark.parametrize("per_page", [1, 2, 7])
def test_paging_follows_next_links_and_lists_each_flex_item_once(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls, per_page: int
) -> None:
    jobs = [emu.add_flex_restore_job(flex_seed.group_id, "Flex0")["id"] for _ in range(5)]

    job_ids, job_pages = all_pages(flex_session, flex_urls.jobs(), per_page)
    snapshot_ids, _ = all_pages(flex_session, flex_urls.snapshots(), per_page)

    assert job_ids == jobs[::-1]
    assert job_pages == -(-5 // per_page)
    assert snapshot_ids == [snap["id"] for snap in flex_seed.flex_snapshots]
    assert flex_session.get(flex_urls.jobs()).json()["totalCount"] == 5


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"snapshotId": None}, 400, "MISSING_ATTRIBUTE"),
        ({"targetDeploymentItemName": None}, 400, "MISSING_ATTRIBUTE"),
        ({"snapshotId": "not-an-id"}, 400, "INVALID_ATTRIBUTE"),
        ({"targetProjectId": "0" * 23}, 400, "INVALID_ATTRIBUTE"),
        ({"targetDeploymentItemName": "no/slash"}, 400, "INVALID_ATTRIBUTE"),
        ({"deliveryMethod": "RESTORE"}, 400, "INVALID_ATTRIBUTE"),  # not a field of the schema
        ({"snapshotId": "0" * 24}, 404, "RESOURCE_NOT_FOUND"),
        ({"targetDeploymentItemName": "Nowhere"}, 404, "CLUSTER_NOT_FOUND"),
        ({"targetProjectId": "0" * 24}, 404, "GROUP_NOT_FOUND"),
    ],
)
def test_create_refuses_what_the_spec_does_not_allow(
    emu: AtlasEmulator,
    flex_seed: Seed,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    body = {k: v for k, v in create_body(flex_seed, **fields).items() if v is not None}
    refused = flex_post(flex_session, flex_urls.jobs(), body)

    assert (refused.status_code, refused.json()["errorCode"]) == (status, code)
    assert flex_session.get(flex_urls.jobs()).json()["totalCount"] == 0


def test_create_refuses_a_snapshot_not_completed_and_malformed_json(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    running = emu.add_flex_snapshot(flex_seed.group_id, "Flex0", status="RUNNING")
    not_done = flex_post(flex_session, flex_urls.jobs(), create_body(flex_seed, snapshotId=running["id"]))
    malformed = flex_session.post(flex_urls.jobs(), data=b"{", headers={"Content-Type": "application/json"})

    assert (not_done.status_code, not_done.json()["errorCode"]) == (400, "INVALID_ATTRIBUTE")
    assert (malformed.status_code, malformed.json()["errorCode"]) == (400, "INVALID_JSON")


def test_create_ignores_read_only_fields_and_always_makes_a_restore(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    other = emu.add_project("other")
    emu.add_flex_cluster(other, "FlexTarget")
    body = create_body(
        flex_seed,
        deliveryType="DOWNLOAD",
        instanceName="Elsewhere",
        status="COMPLETED",
        targetDeploymentItemName="FlexTarget",
        targetProjectId=other,
    )
    created = flex_post(flex_session, flex_urls.jobs(), body).json()

    assert (created["deliveryType"], created["instanceName"], created["status"]) == (
        "RESTORE",
        "Flex0",
        "PENDING",
    )
    assert (created["targetDeploymentItemName"], created["targetProjectId"]) == ("FlexTarget", other)
    assert "snapshotUrl" not in created


def test_each_family_refuses_the_other_with_its_recorded_code(
    emu: AtlasEmulator,
    flex_seed: Seed,
    session: requests.Session,
    flex_session: requests.Session,
    urls: Urls,
    flex_urls: FlexUrls,
) -> None:
    flex_in_cluster_api = [
        session.get(f"{urls.group()}/clusters/Flex0", headers={"Accept": V2_MEDIA_2024_08_05}),
        session.get(urls.jobs("Flex0")),
        session.get(urls.job("0" * 24, "Flex0")),
        session.get(urls.snapshots("Flex0")),
        session.get(f"{urls.snapshots('Flex0')}/{'0' * 24}"),
        session.post(
            urls.jobs("Flex0"), json={"deliveryType": "download"}, headers={"Content-Type": V2_MEDIA}
        ),
        session.get(urls.jobs("Flex0", "v1.0")),
    ]
    dedicated_in_flex_api = [
        flex_session.get(flex_urls.cluster("Cluster0")),
        flex_session.get(flex_urls.jobs("Cluster0")),
        flex_session.get(flex_urls.job("0" * 24, "Cluster0")),
        flex_session.get(flex_urls.snapshots("Cluster0")),
        flex_post(flex_session, flex_urls.jobs("Cluster0"), create_body(flex_seed)),
        flex_post(flex_session, flex_urls.download("Cluster0"), {"snapshotId": "0" * 24}),
    ]
    neither = [session.get(urls.jobs("Missing")), flex_session.get(flex_urls.jobs("Missing"))]

    assert {(a.status_code, a.headers["X-Error-Code"]) for a in flex_in_cluster_api} == {
        (400, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API")
    }
    assert {(a.status_code, a.json()["errorCode"]) for a in dedicated_in_flex_api} == {
        (400, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API")
    }
    assert {(a.status_code, a.json()["errorCode"]) for a in neither} == {(404, "CLUSTER_NOT_FOUND")}
    assert emu.stats.count(route="list_restore_jobs", status=400) == 2
    assert emu.stats.count(route="list_flex_restore_jobs", status=400) == 1


@pytest.mark.parametrize(("accept", "provider"), [(V2_MEDIA_2024_08_05, "TENANT"), (V2_MEDIA, "FLEX")])
def test_a_flex_cluster_the_cluster_api_serves_is_described_there_as_flex(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, accept: str, provider: str
) -> None:
    emu.add_flex_cluster(seed.group_id, "Migrated0", served_by_cluster_api=True)
    described = session.get(f"{urls.group()}/clusters/Migrated0", headers={"Accept": accept}).json()
    backup_route = session.get(urls.jobs("Migrated0"))

    if provider == "FLEX":
        assert described["providerSettings"]["providerName"] == "FLEX"
        assert described["providerSettings"]["instanceSizeName"] == "FLEX"
    else:
        [region] = described["replicationSpecs"][0]["regionConfigs"]
        assert (region["providerName"], region["electableSpecs"]["effectiveInstanceSize"]) == (
            provider,
            "FLEX",
        )
    assert backup_route.json()["errorCode"] == "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"


def test_flex_and_dedicated_clusters_share_one_name_space(emu: AtlasEmulator, flex_seed: Seed) -> None:
    with pytest.raises(ValueError, match="already exists"):
        emu.add_flex_cluster(flex_seed.group_id, "Cluster0")
    with pytest.raises(ValueError, match="already exists"):
        emu.add_cluster(flex_seed.group_id, "Flex0")


def test_flex_routes_answer_only_their_media_type(
    flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    for accept in (V2_MEDIA, V2_MEDIA_2024_08_05, "application/json"):
        refused = flex_session.get(flex_urls.snapshots(), headers={"Accept": accept})
        assert refused.status_code == 406
        assert "application/vnd.atlas.2024-11-13+json" in refused.json()["detail"]
    v1 = flex_session.get(flex_urls.snapshots().replace("/api/atlas/v2/", "/api/atlas/v1.0/"))
    assert v1.status_code == 404


def test_demo_seed_with_flex_adds_a_flex_cluster_with_snapshots_and_a_restore(clock: ManualClock) -> None:
    with AtlasEmulator(clock=clock) as emu:
        seed = seed_demo(emu, size_bytes=20_000, flex=True)

        assert seed.flex_cluster_name == "Flex0"
        assert [snap["status"] for snap in seed.flex_snapshots] == ["COMPLETED"] * 3
        assert emu.restore_job(seed.group_id, "Flex0", seed.job_ids[-1])["status"] == "COMPLETED"


def test_flex_job_inserted_or_removed_between_two_pages_shifts_the_next_page(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    ids = [emu.add_flex_restore_job(flex_seed.group_id, "Flex0")["id"] for _ in range(4)][
        ::-1
    ]  # newest first
    emu.faults.add("list_flex_restore_jobs", "insert_job", skip=1)
    first = flex_session.get(flex_urls.jobs(), params={"itemsPerPage": "2"}).json()
    second = flex_session.get(first["links"][1]["href"]).json()

    assert [job["id"] for job in first["results"]] == ids[:2]
    assert [job["id"] for job in second["results"]] == ids[1:3]  # ids[1] appears on both pages
    assert second["totalCount"] == 5

    emu.faults.add("list_flex_restore_jobs", "remove_job", skip=1)
    first = flex_session.get(flex_urls.jobs(), params={"itemsPerPage": "2"}).json()
    second = flex_session.get(first["links"][1]["href"]).json()
    assert second["totalCount"] == 4
    assert [job["id"] for job in second["results"]] == ids[
        2:4
    ]  # the newest went: ids[1] slid onto page one, unseen


def test_serve_with_flex_serves_a_flex_cluster_with_snapshots() -> None:
    command = [sys.executable, "-m", "airflow_provider_atlas_restore.testing", "serve", "--flex"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        uri = urlsplit(lines[2])
        group_id = dict(part.split("=") for part in uri.query.split("&"))["group_id"]
        listed = requests.get(
            f"http://{uri.hostname}:{uri.port}/api/atlas/v2/groups/{group_id}/flexClusters/Flex0/backup/snapshots",
            auth=HTTPDigestAuth(unquote(uri.username or ""), unquote(uri.password or "")),
            headers={"Accept": FLEX_MEDIA},
            timeout=10,
        )

        assert lines[1].endswith("Sharded0 (sharded), Flex0 (flex)")
        assert [snap["status"] for snap in listed.json()["results"]] == ["COMPLETED"] * 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _flex_route_calls(seed: Seed, urls: FlexUrls) -> dict[str, Any]:
    """Return, by flex route name, a call that the route serves (200) without a fault."""
    snapshot_id = seed.flex_snapshots[-1]["id"]
    return {
        "get_flex_cluster": lambda s: s.get(urls.cluster()),
        "list_flex_restore_jobs": lambda s: s.get(urls.jobs()),
        "get_flex_restore_job": lambda s: s.get(urls.job(seed.job_ids[-1])),
        "list_flex_snapshots": lambda s: s.get(urls.snapshots()),
        "get_flex_snapshot": lambda s: s.get(f"{urls.snapshots()}/{snapshot_id}"),
        "create_flex_restore_job": lambda s: flex_post(
            s, urls.jobs(), {"snapshotId": snapshot_id, "targetDeploymentItemName": "Flex0"}
        ),
        "download_flex_snapshot": lambda s: flex_post(s, urls.download(), {"snapshotId": snapshot_id}),
    }


FLEX_API_ROUTES = [
    "get_flex_cluster",
    "list_flex_restore_jobs",
    "get_flex_restore_job",
    "list_flex_snapshots",
    "get_flex_snapshot",
    "create_flex_restore_job",
    "download_flex_snapshot",
]


@pytest.fixture
def flex_demo(emu: AtlasEmulator) -> Seed:
    """A project with flex cluster Flex0, its snapshots and a finished flex restore job."""
    return seed_demo(emu, flex=True)


@pytest.mark.parametrize("route", FLEX_API_ROUTES)
def test_a_status_fault_answers_each_flex_route_once_with_an_atlas_error_and_changes_nothing(
    emu: AtlasEmulator, flex_demo: Seed, flex_session: requests.Session, route: str
) -> None:
    call = _flex_route_calls(flex_demo, FlexUrls(emu, flex_demo))[route]
    jobs_before = len(emu.flex_snapshot_urls(flex_demo.group_id, "Flex0"))
    listed_before = flex_session.get(FlexUrls(emu, flex_demo).jobs()).json()["totalCount"]
    emu.faults.add(route, "status", status=503, retry_after=3)

    refused = call(flex_session)

    assert refused.status_code == 503
    assert refused.json()["errorCode"] == "SERVICE_UNAVAILABLE"
    assert refused.headers["Retry-After"] == "3"
    assert flex_session.get(FlexUrls(emu, flex_demo).jobs()).json()["totalCount"] == listed_before
    assert len(emu.flex_snapshot_urls(flex_demo.group_id, "Flex0")) == jobs_before
    assert call(flex_session).status_code == 200  # count=1: the next one is served
    assert emu.stats.count(route=route, status=503) == 1


@pytest.mark.parametrize("route", ["get_flex_restore_job", "download_flex_snapshot"])
def test_html_reset_cut_and_delay_faults_act_on_flex_routes(
    emu: AtlasEmulator, flex_demo: Seed, flex_session: requests.Session, route: str
) -> None:
    call = _flex_route_calls(flex_demo, FlexUrls(emu, flex_demo))[route]
    assert call(flex_session).status_code == 200  # the Digest round trip done: faults meet the request
    emu.faults.add(route, "html", status=502)
    proxy = call(flex_session)
    assert (proxy.status_code, proxy.headers["Content-Type"].split(";")[0]) == (502, "text/html")
    emu.faults.add(route, "reset")
    with pytest.raises(requests.ConnectionError):
        call(flex_session)
    emu.faults.add(route, "cut", after_bytes=20)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        call(flex_session)
    emu.faults.add(route, "delay", seconds=0.5)
    flex_session.request = _with_timeout(flex_session.request, 0.1)  # type: ignore[method-assign]
    with pytest.raises(requests.ReadTimeout):
        call(flex_session)
    assert emu.stats.count(route=route, status=0) == 1  # the reset


def _with_timeout(request: Any, seconds: float) -> Any:
    def timed(*arguments: Any, **keywords: Any) -> Any:
        keywords.setdefault("timeout", seconds)
        return request(*arguments, **keywords)

    return timed


def test_reset_and_delay_faults_act_on_the_snapshot_url(
    emu: AtlasEmulator, flex_demo: Seed, flex_session: requests.Session
) -> None:
    urls = FlexUrls(emu, flex_demo)
    answer = flex_post(
        flex_session, urls.download(), {"snapshotId": flex_demo.flex_snapshots[-1]["id"]}
    ).json()
    emu.faults.add("flex_snapshot_file", "reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(answer["snapshotUrl"])
    emu.faults.add("flex_snapshot_file", "delay", seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(answer["snapshotUrl"], timeout=0.1)
    served = requests.get(answer["snapshotUrl"], timeout=5)
    assert served.status_code == 200
    assert served.content == b"".join(
        emu.flex_snapshot_archive(flex_demo.group_id, "Flex0", answer["id"]).iter_bytes()
    )
