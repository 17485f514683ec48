"""The pytest fixture and the ``serve`` command line."""

from __future__ import annotations

import signal
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from tests.testing.conftest import V2_MEDIA


def test_atlas_emulator_fixture_is_seeded_and_running(atlas_emulator: AtlasEmulator) -> None:
    seed = atlas_emulator.seed
    assert seed is not None
    assert seed.cluster_name == "Cluster0"
    assert len(seed.snapshot_ids) == 3
    assert isinstance(atlas_emulator.clock, ManualClock)
    resp = requests.get(
        f"{atlas_emulator.base_url}/api/atlas/v2/groups/{seed.group_id}/clusters/Cluster0/backup/snapshots",
        auth=HTTPDigestAuth(atlas_emulator.public_key, atlas_emulator.private_key),
        headers={"Accept": V2_MEDIA},
    )
    assert [s["id"] for s in resp.json()["results"]] == seed.snapshot_ids
    assert all(s["status"] == "completed" for s in resp.json()["results"])


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_the_connection_and_stops_cleanly_on_a_signal(stop_signal: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_atlas_restore.testing", "serve", "--ready-after", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        assert lines[0].startswith("Atlas emulator listening on http://127.0.0.1:")
        uri = urlsplit(lines[2])
        assert uri.scheme == "mongodb-atlas"
        assert lines[3] == f"export AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT='{lines[2]}'"
        group_id = dict(p.split("=") for p in uri.query.split("&"))["group_id"]
        resp = requests.get(
            f"http://{uri.hostname}:{uri.port}/api/atlas/v2/groups/{group_id}/clusters/Cluster0/backup/restoreJobs",
            auth=HTTPDigestAuth(unquote(uri.username or ""), unquote(uri.password or "")),
            headers={"Accept": V2_MEDIA},
            timeout=10,
        )
        assert resp.status_code == 200
        assert resp.json()["totalCount"] == 2
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)
