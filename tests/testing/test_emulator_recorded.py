"""The emulator's answers have the fields, types and headers of the real ones in recorded/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import V2_MEDIA, Urls, create_job


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (a list by the shape of its first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def recorded(shared: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared / "recorded" / f"{name}.json").read_text())
    return data


def assert_like(shared: Path, name: str, resp: requests.Response) -> None:
    real = recorded(shared, name)
    assert resp.status_code == real["status"]
    assert shape(resp.json()) == shape(real["body"])
    for header in ("Content-Type", "Ratelimit-Limit", "Ratelimit-Remaining", "X-Error-Code"):
        if header in real["headers"]:
            assert header in resp.headers, header
    assert resp.headers["Content-Type"] == real["headers"]["Content-Type"]
    if "X-Error-Code" in real["headers"]:
        assert resp.headers["X-Error-Code"] == resp.json()["errorCode"]


def test_download_job_pending_ready_and_create_look_like_the_recorded_ones(
    atlas_shared_dir: Path, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.ready_after = 30
    created = create_job(session, urls.jobs(), {"deliveryType": "download", "snapshotId": seed.snapshot_id})
    assert_like(atlas_shared_dir, "v2-create-download", created)
    job_url = urls.job(created.json()["id"])
    assert_like(atlas_shared_dir, "v2-get-download-pending", session.get(job_url))
    emu.clock.advance(30)
    ready = session.get(job_url)
    assert_like(atlas_shared_dir, "v2-get-download-ready", ready)
    real_rels = [link["rel"] for link in recorded(atlas_shared_dir, "v2-get-download-ready")["body"]["links"]]
    assert [link["rel"] for link in ready.json()["links"]] == real_rels


def test_automated_job_and_list_look_like_the_recorded_ones(
    atlas_shared_dir: Path, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.ready_after = 300
    body = {
        "deliveryType": "automated",
        "snapshotId": seed.snapshot_id,
        "targetClusterName": "Cluster0",
        "targetGroupId": seed.group_id,
    }
    created = create_job(session, urls.jobs(), body)
    assert_like(atlas_shared_dir, "v2-create-automated", created)
    emu.clock.advance(300)
    assert_like(atlas_shared_dir, "v2-get-automated-finished", session.get(urls.job(created.json()["id"])))
    assert_like(atlas_shared_dir, "v2-list-cluster", session.get(urls.jobs()))


def test_error_answers_look_like_the_recorded_ones(
    atlas_shared_dir: Path, emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    assert_like(atlas_shared_dir, "v2-error-404-cluster-not-found", session.get(urls.jobs("cluster-989")))
    emu.faults.add("list_restore_jobs", "status", status=429, retry_after=55)
    limited = session.get(urls.jobs())
    assert_like(atlas_shared_dir, "v2-error-429-rate-limited", limited)
    assert limited.headers["Retry-After"] == "55"
    emu.ip_access_denied = True
    denied = session.get(urls.jobs())
    assert_like(atlas_shared_dir, "v2-error-403-ip-access-list", denied)
    assert denied.json()["parameters"] == ["127.0.0.1"]
    emu.ip_access_denied = False
    unauthorized = requests.get(
        urls.jobs(), auth=HTTPDigestAuth("pubkey", "wrong"), headers={"Accept": V2_MEDIA}
    )
    real = recorded(atlas_shared_dir, "v2-error-401-unauthorized")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == real["body"]
    assert list(unauthorized.json()) == list(real["body"])


@pytest.mark.parametrize("name", ["v1-docs-list-sharded"])
def test_v1_sharded_download_job_has_the_documented_fields(
    atlas_shared_dir: Path, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, name: str
) -> None:
    emu.add_restore_job(seed.group_id, "Sharded0")
    ours = session.get(urls.jobs("Sharded0", "v1.0")).json()["results"][0]
    documented = recorded(atlas_shared_dir, name)["body"]["results"][1]
    assert set(documented) <= set(ours)
    assert shape(ours["components"][0]) == shape(documented["components"][0])
    assert ours["links"][1]["rel"] == documented["links"][1]["rel"]
