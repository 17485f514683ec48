"""Fixtures for the emulator's own tests: a seeded emulator on a manual clock and clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed, seed_basic, seed_flex

V2_MEDIA = "application/vnd.atlas.2023-01-01+json"
V2_CONTENT_TYPE = f"{V2_MEDIA};charset=utf-8"
FLEX_MEDIA = "application/vnd.atlas.2024-11-13+json"
SHARED_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "atlas-api"


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock starting at the recorded job's time."""
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[AtlasEmulator]:
    """A running emulator seeded with project demo / Cluster0 / 3 snapshots, plus Sharded0."""
    emulator = AtlasEmulator(clock=clock)
    with emulator:
        seed = seed_basic(emulator)
        emulator.add_cluster(seed.group_id, "Sharded0", sharded=True, shards=2)
        seed.sharded_cluster_name = "Sharded0"
        seed.sharded_snapshots = [emulator.add_snapshot(seed.group_id, "Sharded0", size_bytes=4_000)]
        yield emulator


@pytest.fixture
def seed(emu: AtlasEmulator) -> Seed:
    """What the ``emu`` fixture created."""
    assert emu.seed is not None
    return emu.seed


@pytest.fixture
def session(emu: AtlasEmulator) -> Iterator[requests.Session]:
    """One requests session with Digest auth and the v2 Accept header."""
    with requests.Session() as http:
        http.auth = HTTPDigestAuth(emu.public_key, emu.private_key)
        http.headers["Accept"] = V2_MEDIA
        yield http


class Urls:
    """URL builder for the seeded emulator."""

    def __init__(self, emu: AtlasEmulator, seed: Seed) -> None:
        self.emu = emu
        self.seed = seed

    def group(self, version: str = "v2", group_id: str | None = None) -> str:
        return f"{self.emu.base_url}/api/atlas/{version}/groups/{group_id or self.seed.group_id}"

    def cluster(self, cluster: str = "Cluster0", version: str = "v2", group_id: str | None = None) -> str:
        return f"{self.group(version, group_id)}/clusters/{cluster}/backup"

    def jobs(self, cluster: str = "Cluster0", version: str = "v2", group_id: str | None = None) -> str:
        return f"{self.cluster(cluster, version, group_id)}/restoreJobs"

    def job(self, job_id: str, cluster: str = "Cluster0", version: str = "v2") -> str:
        return f"{self.jobs(cluster, version)}/{job_id}"

    def snapshots(self, cluster: str = "Cluster0", version: str = "v2") -> str:
        return f"{self.cluster(cluster, version)}/snapshots"


@pytest.fixture
def urls(emu: AtlasEmulator, seed: Seed) -> Urls:
    """URL builder for the seeded emulator."""
    return Urls(emu, seed)


def create_job(session: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    """POST a create-restore-job body with the v2 content type."""
    return session.post(url, json=body, headers={"Content-Type": V2_MEDIA})


@pytest.fixture(scope="session")
def atlas_shared_dir() -> Path:
    """``<repo>/../shared/atlas-api``, or skip when CI did not put it beside the clone."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"Atlas reference data not found at {SHARED_DIR.resolve()}")
    return SHARED_DIR


@pytest.fixture
def flex_seed(emu: AtlasEmulator, seed: Seed) -> Seed:
    """The ``emu`` fixture's seed plus flex cluster ``Flex0`` with 3 daily COMPLETED snapshots."""
    return seed_flex(emu, seed)


@pytest.fixture
def flex_session(emu: AtlasEmulator) -> Iterator[requests.Session]:
    """One requests session with Digest auth and the flex API's Accept header (2024-11-13)."""
    with requests.Session() as http:
        http.auth = HTTPDigestAuth(emu.public_key, emu.private_key)
        http.headers["Accept"] = FLEX_MEDIA
        yield http


class FlexUrls:
    """URL builder for the flex API of the seeded emulator."""

    def __init__(self, emu: AtlasEmulator, seed: Seed) -> None:
        self.emu = emu
        self.seed = seed

    def cluster(self, name: str = "Flex0", group_id: str | None = None) -> str:
        return f"{self.emu.base_url}/api/atlas/v2/groups/{group_id or self.seed.group_id}/flexClusters/{name}"

    def jobs(self, name: str = "Flex0") -> str:
        return f"{self.cluster(name)}/backup/restoreJobs"

    def job(self, job_id: str, name: str = "Flex0") -> str:
        return f"{self.jobs(name)}/{job_id}"

    def snapshots(self, name: str = "Flex0") -> str:
        return f"{self.cluster(name)}/backup/snapshots"

    def download(self, name: str = "Flex0") -> str:
        return f"{self.cluster(name)}/backup/download"


@pytest.fixture
def flex_urls(emu: AtlasEmulator, flex_seed: Seed) -> FlexUrls:
    """URL builder for the flex API (the ``flex_seed`` fixture's project)."""
    return FlexUrls(emu, flex_seed)


def flex_post(
    session: requests.Session, url: str, body: Any, params: dict[str, str] | None = None
) -> requests.Response:
    """POST a JSON body to the flex API with its content type."""
    return session.post(url, json=body, params=params, headers={"Content-Type": FLEX_MEDIA})


@pytest.fixture(scope="session")
def atlas_contract(atlas_shared_dir: Path) -> Any:
    """The spec subset with its documented tolerances, to validate emulator answers against."""
    from tests.testing.atlas_contract import Contract

    return Contract(atlas_shared_dir)
