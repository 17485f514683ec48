"""Paging, envelope and pretty as Atlas does them."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import Urls


def follow(session: requests.Session, url: str, **params: str) -> list[dict[str, object]]:
    pages = []
    next_url: str | None = url
    first = True
    while next_url:
        resp = session.get(next_url, params=params if first else None)
        assert resp.status_code == 200, resp.text
        first = False
        pages.append(resp.json())
        links = {link["rel"]: link["href"] for link in resp.json()["links"]}
        next_url = links.get("next")
    return pages


def test_pages_link_next_until_the_last_newest_first(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    ids = emu.add_restore_jobs(seed.group_id, "Cluster0", count=250)
    pages = follow(session, urls.jobs(), itemsPerPage="100")
    assert [len(p["results"]) for p in pages] == [100, 100, 50]  # type: ignore[arg-type]
    assert all(p["totalCount"] == 250 for p in pages)
    listed = [job["id"] for p in pages for job in p["results"]]  # type: ignore[attr-defined]
    assert listed == ids[::-1]
    self_link = pages[1]["links"][0]  # type: ignore[index]
    assert self_link == {"href": f"{urls.jobs()}?includeCount=true&pageNum=2&itemsPerPage=100", "rel": "self"}
    assert [link["rel"] for link in pages[-1]["links"]] == ["self"]  # type: ignore[attr-defined]


def test_default_page_size_is_100_and_pages_past_the_end_are_empty(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.add_restore_jobs(seed.group_id, "Cluster0", count=101)
    first = session.get(urls.jobs()).json()
    assert len(first["results"]) == 100
    beyond = session.get(urls.jobs(), params={"pageNum": "9"}).json()
    assert beyond["results"] == []
    assert beyond["totalCount"] == 101


def test_include_count_false_leaves_out_total_count(session: requests.Session, urls: Urls) -> None:
    body = session.get(urls.snapshots(), params={"includeCount": "false"}).json()
    assert "totalCount" not in body
    assert len(body["results"]) == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("itemsPerPage", "501"),
        ("itemsPerPage", "0"),
        ("pageNum", "0"),
        ("pageNum", "x"),
        ("includeCount", "maybe"),
    ],
)
def test_bad_paging_parameters_are_a_400_atlas_error(
    session: requests.Session, urls: Urls, name: str, value: str
) -> None:
    resp = session.get(urls.jobs(), params={name: value})
    assert resp.status_code == 400
    body = resp.json()
    assert set(body) == {"detail", "error", "errorCode", "parameters", "reason"}
    assert body["errorCode"] == resp.headers["X-Error-Code"] == "INVALID_QUERY_PARAMETER"
    assert body["parameters"] == [name, value]


def test_items_per_page_500_is_allowed(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.add_restore_jobs(seed.group_id, "Cluster0", count=501)
    body = session.get(urls.jobs(), params={"itemsPerPage": "500"}).json()
    assert len(body["results"]) == 500


def test_snapshots_come_newest_first(session: requests.Session, urls: Urls, seed: Seed) -> None:
    body = session.get(urls.snapshots()).json()
    assert [s["id"] for s in body["results"]] == seed.snapshot_ids
    created = [s["createdAt"] for s in body["results"]]
    assert created == sorted(created, reverse=True)


def test_envelope_wraps_single_resources_and_adds_status_to_pages(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job = emu.add_restore_job(seed.group_id, "Cluster0")
    single = session.get(urls.job(job["id"]), params={"envelope": "true"}).json()
    assert single == {"status": 200, "content": session.get(urls.job(job["id"])).json()}
    page = session.get(urls.jobs(), params={"envelope": "true", "itemsPerPage": "1"}).json()
    assert page["status"] == 200
    assert page["results"][0]["id"] == job["id"]
    assert "envelope=true" in page["links"][0]["href"]


def test_pretty_changes_only_whitespace(session: requests.Session, urls: Urls) -> None:
    compact = session.get(urls.snapshots())
    pretty = session.get(urls.snapshots(), params={"pretty": "true"})
    assert b"\n  " in pretty.content
    assert b"\n" not in compact.content
    plain, indented = compact.json(), pretty.json()
    assert json.dumps(plain["results"]) == json.dumps(indented["results"])


def test_ten_thousand_jobs_are_created_in_bulk_and_paged(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    ids = emu.add_restore_jobs(seed.group_id, "Cluster0", count=10_000)
    assert len(set(ids)) == 10_000
    last = session.get(urls.jobs(), params={"itemsPerPage": "500", "pageNum": "20"}).json()
    assert [j["id"] for j in last["results"]] == ids[499::-1]
    assert len(last["links"]) == 1
