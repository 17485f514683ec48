"""The emulator's cluster, backup schedule, fallback snapshots and private-endpoint links, against the spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.atlas_contract import V2_MEDIA_2024_08_05, Contract
from tests.testing.conftest import V2_MEDIA, Urls

VERSIONS = ["v2", "v1.0"]
ENDPOINT = "vpce-0123456789abcdef0"
OTHER_ENDPOINT = "vpce-fedcba98765432100"


@pytest.fixture(scope="module")
def contract(atlas_shared_dir: Path) -> Contract:
    return Contract(atlas_shared_dir)


def cluster_url(urls: Urls, cluster: str = "Cluster0", version: str = "v2") -> str:
    return f"{urls.group(version)}/clusters/{cluster}"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cluster", ["Cluster0", "Sharded0"])
def test_cluster_and_backup_schedule_match_the_spec(
    contract: Contract, session: requests.Session, urls: Urls, version: str, cluster: str
) -> None:
    for url in (
        cluster_url(urls, cluster, version),
        f"{cluster_url(urls, cluster, version)}/backup/schedule",
    ):
        for envelope in (False, True):
            resp = session.get(url, params={"envelope": "true"} if envelope else {})
            assert resp.status_code == 200, resp.text
            contract.check(resp, envelope=envelope)


@pytest.mark.parametrize(
    ("accept", "content_type", "sunset"),
    [
        (V2_MEDIA_2024_08_05, f"{V2_MEDIA_2024_08_05};charset=utf-8", False),
        (V2_MEDIA, f"{V2_MEDIA};charset=utf-8", True),
    ],
)
def test_cluster_and_schedule_answer_the_version_asked_for(
    contract: Contract, session: requests.Session, urls: Urls, accept: str, content_type: str, sunset: bool
) -> None:
    for url in (cluster_url(urls), f"{cluster_url(urls)}/backup/schedule"):
        resp = session.get(url, headers={"Accept": accept})

        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"] == content_type
        assert ("Sunset" in resp.headers) is sunset
        contract.check(resp)


def test_a_version_the_resource_does_not_have_is_refused(session: requests.Session, urls: Urls) -> None:
    resp = session.get(
        f"{cluster_url(urls)}/backup/schedule", headers={"Accept": "application/vnd.atlas.2099-01-01+json"}
    )

    assert resp.status_code == 406
    assert V2_MEDIA_2024_08_05 in resp.json()["detail"]


def test_continuous_backup_and_restore_window_are_what_the_test_set(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    before = session.get(cluster_url(urls)).json(), session.get(f"{cluster_url(urls)}/backup/schedule").json()
    emu.set_continuous_backup(seed.group_id, "Cluster0", False, restore_window_days=2)
    cluster = session.get(cluster_url(urls)).json()
    schedule = session.get(f"{cluster_url(urls)}/backup/schedule").json()

    assert (before[0]["pitEnabled"], before[1]["restoreWindowDays"]) == (True, 7)  # the recorded default
    assert (cluster["pitEnabled"], schedule["restoreWindowDays"]) == (False, 2)
    assert schedule["clusterId"] == cluster["id"]
    assert [item["frequencyType"] for item in schedule["policies"][0]["policyItems"]] == [
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "yearly",
    ]
    assert emu.stats.count(route="get_cluster", status=200) == 2
    assert emu.stats.count(route="get_backup_schedule", status=200) == 2


def test_unknown_cluster_is_404_on_both_new_routes(session: requests.Session, urls: Urls) -> None:
    for url in (cluster_url(urls, "Missing"), f"{cluster_url(urls, 'Missing')}/backup/schedule"):
        resp = session.get(url)
        assert resp.status_code == 404
        assert resp.json()["errorCode"] == "CLUSTER_NOT_FOUND"


@pytest.mark.parametrize("version", VERSIONS)
def test_fallback_snapshot_is_listed_with_its_type_and_matches_the_spec(
    contract: Contract, emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, version: str
) -> None:
    fallback = emu.add_snapshot(seed.group_id, "Cluster0", snapshot_type="fallback")
    resp = session.get(urls.snapshots(version=version))

    assert resp.status_code == 200
    assert resp.json()["results"][0]["id"] == fallback["id"]
    assert resp.json()["results"][0]["snapshotType"] == "fallback"
    contract.check(resp)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cluster", ["Cluster0", "Sharded0"])
def test_download_job_carries_private_links_per_endpoint_and_matches_the_spec(
    contract: Contract,
    emu: AtlasEmulator,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    version: str,
    cluster: str,
) -> None:
    emu.add_private_endpoint(seed.group_id, ENDPOINT)
    emu.add_private_endpoint(seed.group_id, OTHER_ENDPOINT)
    pending = emu.add_restore_job(seed.group_id, cluster, ready_after=600)["id"]
    ready = emu.add_restore_job(seed.group_id, cluster)["id"]
    replica_sets = 3 if cluster == "Sharded0" else 1

    for job_id in (pending, ready):
        resp = session.get(urls.job(job_id, cluster, version))
        assert resp.status_code == 200
        contract.check(resp)
    body = session.get(urls.job(ready, cluster, version)).json()
    assert "privateDownloadDeliveryUrls" not in session.get(urls.job(pending, cluster, version)).json()
    private = body["privateDownloadDeliveryUrls"]
    assert sorted({entry["endpointId"] for entry in private}) == sorted([ENDPOINT, OTHER_ENDPOINT])
    assert len(private) == 2 * replica_sets
    assert not set(body["deliveryUrl"]) & {entry["deliveryUrl"] for entry in private}
    for component in body.get("components", []):
        assert [entry["endpointId"] for entry in component["privateDownloadDeliveryUrls"]] == [
            ENDPOINT,
            OTHER_ENDPOINT,
        ]
    assert sorted(entry["deliveryUrl"] for entry in private) == sorted(
        emu.private_download_urls(seed.group_id, cluster, ready)
    )


def test_private_link_is_served_on_its_endpoints_path_only(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    emu.add_private_endpoint(seed.group_id, ENDPOINT)
    job_id = emu.add_restore_job(seed.group_id, "Cluster0")["id"]
    [link] = emu.private_download_urls(seed.group_id, "Cluster0", job_id, ENDPOINT)
    public_path = link.replace(f"/backup/private/{ENDPOINT}/", "/backup/download/")
    other_endpoint = link.replace(ENDPOINT, OTHER_ENDPOINT)

    assert requests.get(public_path).status_code == 404
    assert requests.get(other_endpoint).status_code == 404
    fetched = requests.get(link)
    assert fetched.status_code == 200
    assert fetched.content[:2] == b"\x1f\x8b"  # a gzip archive
    assert requests.get(link).status_code == 410  # single use, like the public links
    assert emu.stats.count(route="private_download", status=200) == 1
    assert emu.stats.count(route="download", status=200) == 0
    after = session.get(urls.job(job_id)).json()
    assert after["privateDownloadDeliveryUrls"] == []  # a used link is no longer listed


def test_private_endpoint_ids_are_checked(emu: AtlasEmulator, seed: Seed) -> None:
    with pytest.raises(ValueError, match="vpce-"):
        emu.add_private_endpoint(seed.group_id, "vpce-nothex")
    generated = emu.add_private_endpoint(seed.group_id)
    assert generated.startswith("vpce-")
    assert len(generated) == 22
