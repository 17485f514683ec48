"""Each fault kind, per route and for the next N requests, plus added latency."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import Urls


def test_status_fault_answers_the_next_n_requests_then_stops(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    emu.faults.add(route="list_restore_jobs", kind="status", status=503, count=2)
    statuses = [session.get(urls.jobs()).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert session.get(urls.group()).status_code == 200
    assert emu.faults.pending == []


def test_status_fault_bodies_and_retry_after(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    emu.faults.add("get_project", "status", status=503, retry_after=7)
    unavailable = session.get(urls.group())
    assert unavailable.json()["errorCode"] == "SERVICE_UNAVAILABLE"
    assert unavailable.headers["Retry-After"] == "7"
    emu.faults.add("get_project", "status", status=429, retry_after=2)
    limited = session.get(urls.group())
    assert (limited.status_code, limited.json()["errorCode"], limited.headers["Retry-After"]) == (
        429,
        "RATE_LIMITED",
        "2",
    )
    emu.faults.add("get_project", "status", status=500)
    failed = session.get(urls.group())
    assert failed.json()["errorCode"] == "UNEXPECTED_ERROR"
    assert "Retry-After" not in failed.headers


@pytest.mark.parametrize("status", [500, 502])
def test_html_fault_answers_like_a_proxy(
    emu: AtlasEmulator, session: requests.Session, urls: Urls, status: int
) -> None:
    emu.faults.add("*", "html", status=status)
    resp = session.get(urls.jobs())
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == "text/html"
    assert resp.text.startswith("<html>")
    assert session.get(urls.jobs()).status_code == 200


def test_faults_act_after_authentication(emu: AtlasEmulator, session: requests.Session, urls: Urls) -> None:
    emu.faults.add("get_project", "status", status=503)
    first = session.get(urls.group())
    assert [r.status_code for r in first.history] == [401]
    assert first.status_code == 503


def test_reset_fault_closes_the_connection_without_an_answer(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    assert session.get(urls.group()).status_code == 200
    emu.faults.add("*", "reset", count=1)
    with pytest.raises(requests.ConnectionError):
        session.get(urls.group())
    assert session.get(urls.group()).status_code == 200
    assert emu.stats.count(route="get_project", status=0) == 1


def test_delay_fault_outlasts_the_client_timeout(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    assert session.get(urls.group()).status_code == 200
    emu.faults.add("get_project", "delay", seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        session.get(urls.group(), timeout=0.1)
    assert session.get(urls.group(), timeout=5).status_code == 200


def test_job_inserted_between_two_page_requests_shifts_the_next_page(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    ids = emu.add_restore_jobs(seed.group_id, "Cluster0", count=4)[::-1]  # newest first
    emu.faults.add("list_restore_jobs", "insert_job", skip=1)
    first = session.get(urls.jobs(), params={"itemsPerPage": "2"}).json()
    second = session.get(first["links"][1]["href"]).json()
    assert [j["id"] for j in first["results"]] == ids[:2]
    assert [j["id"] for j in second["results"]] == ids[1:3]  # ids[1] appears on both pages
    assert second["totalCount"] == 5


def test_job_removed_mid_paging_is_skipped_by_the_next_page(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    ids = emu.add_restore_jobs(seed.group_id, "Cluster0", count=4)[::-1]
    emu.faults.add("list_restore_jobs", "remove_job", skip=1)
    first = session.get(urls.jobs(), params={"itemsPerPage": "2"}).json()
    second = session.get(first["links"][1]["href"]).json()
    assert [j["id"] for j in second["results"]] == ids[3:]  # ids[2] slid onto page one, unseen
    assert second["totalCount"] == 3


def test_cut_fault_sends_full_content_length_then_closes(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.faults.add("get_project", "cut", after_bytes=20)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(urls.group())
    assert session.get(urls.group()).status_code == 200


def test_latency_is_added_to_every_answer(emu: AtlasEmulator, session: requests.Session, urls: Urls) -> None:
    session.get(urls.group())
    emu.latency = 0.05
    started = time.monotonic()
    session.get(urls.group())
    assert time.monotonic() - started >= 0.05


def test_fault_filters_unlimited_count_and_clear(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    emu.faults.add("*", "status", status=500, count=None, method="POST")
    assert session.get(urls.jobs()).status_code == 200
    for _ in range(3):
        assert session.post(urls.jobs(), json={}).status_code == 500
    emu.faults.clear()
    assert session.post(urls.jobs(), json={}).status_code == 400


@pytest.mark.parametrize(
    "kwargs",
    [
        {"route": "nope"},
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "delay"},
        {"count": 0},
    ],
)
def test_invalid_faults_are_refused(emu: AtlasEmulator, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        emu.faults.add(**kwargs)  # type: ignore[arg-type]
