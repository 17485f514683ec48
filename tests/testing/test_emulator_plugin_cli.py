"""The pytest fixture and the ``serve`` command line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
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


def _serve_connections(proc: subprocess.Popen[str], count: int) -> dict[str, str]:
    """Read ``serve``'s output until it has printed ``count`` ``export AIRFLOW_CONN_...`` lines."""
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    while len(exports) < count:
        line = proc.stdout.readline()
        assert line, f"serve stopped early: {proc.stderr.read() if proc.stderr else ''}"
        found = re.fullmatch(r"export AIRFLOW_CONN_(\w+)='(.+)'", line.strip())
        if found:
            exports[found.group(1)] = found.group(2)
    return exports


@pytest.fixture
def served_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Run ``serve --service-account`` and define the connections it prints, as a user would."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "airflow_provider_atlas_restore.testing", "serve"),
            *("--ready-after", "0", "--download-size", "60000", "--service-account"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports = _serve_connections(proc, 2)
        for name, uri in exports.items():
            monkeypatch.setenv(f"AIRFLOW_CONN_{name}", uri)
        yield exports
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("conn_id", ["mongodb_atlas_default", "mongodb_atlas_service_account"])
def test_serve_prints_connections_that_create_and_download_a_restore(
    served_connections: dict[str, str], conn_id: str, tmp_path: Path
) -> None:
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
    from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
        AtlasCreateRestoreJobOperator,
    )

    assert set(served_connections) == {"MONGODB_ATLAS_DEFAULT", "MONGODB_ATLAS_SERVICE_ACCOUNT"}
    create = AtlasCreateRestoreJobOperator(
        task_id="create",
        cluster_name="Cluster0",
        snapshot_id="latest",
        atlas_conn_id=conn_id,
        wait_for_completion=False,  # the download below reads the job by its id
    )
    job = create.execute(context={})  # type: ignore[arg-type]
    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job_id=job["id"],
        cluster_name="Cluster0",
        destination=str(tmp_path),
        atlas_conn_id=conn_id,
    )
    [result] = download.execute(context={})  # type: ignore[arg-type]
    assert Path(result["path"]).stat().st_size == result["bytes"] > 60000
    assert tarfile.is_tarfile(result["path"])


def test_serve_with_export_bucket_seeds_a_bucket_the_export_example_can_find() -> None:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "airflow_provider_atlas_restore.testing", "serve"),
            *("--ready-after", "0", "--export-bucket", "nightly-exports"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(5)]
        bucket = re.fullmatch(r"export bucket nightly-exports \(([0-9a-f]{24}), AWS\)", lines[2])
        assert bucket, lines
        uri = urlsplit(lines[3])
        group_id = dict(p.split("=") for p in uri.query.split("&"))["group_id"]
        resp = requests.get(
            f"http://{uri.hostname}:{uri.port}/api/atlas/v2/groups/{group_id}/backup/exportBuckets",
            auth=HTTPDigestAuth(unquote(uri.username or ""), unquote(uri.password or "")),
            headers={"Accept": "application/vnd.atlas.2024-05-30+json"},
            timeout=10,
        )
        assert [(item["_id"], item["bucketName"]) for item in resp.json()["results"]] == [
            (bucket.group(1), "nightly-exports")
        ]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)
