"""Download links: valid .tar.gz, exact Content-Length, Range, single use, cuts, flat memory."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import textwrap

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed


def ready_url(emu: AtlasEmulator, seed: Seed, cluster: str = "Cluster0", **kwargs: object) -> str:
    job = emu.add_restore_job(seed.group_id, cluster, **kwargs)  # type: ignore[arg-type]
    url: str = emu.restore_job(seed.group_id, cluster, job["id"])["deliveryUrl"][0]
    return url


def test_download_is_a_valid_gzip_tar_with_exact_length(emu: AtlasEmulator, seed: Seed) -> None:
    url = ready_url(emu, seed, download_size=300_000)
    resp = requests.get(url)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/gzip"
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    assert 300_000 <= len(resp.content) < 300_000 + 600
    with tarfile.open(fileobj=io.BytesIO(resp.content), mode="r:gz") as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert names[0] == f"restore-{seed.snapshot_id}/WiredTiger"
        for member in members:
            handle = archive.extractfile(member)
            assert handle is not None
            assert len(handle.read()) == member.size


def test_downloads_are_unauthenticated_and_deterministic(emu: AtlasEmulator, seed: Seed) -> None:
    emu.single_use_links = False
    url = ready_url(emu, seed)
    assert requests.get(url).content == requests.get(url).content
    assert emu.stats.challenges == 0


def test_range_request_resumes_with_206(emu: AtlasEmulator, seed: Seed) -> None:
    emu.single_use_links = False
    url = ready_url(emu, seed, download_size=200_000)
    full = requests.get(url).content
    part = requests.get(url, headers={"Range": "bytes=65540-"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 65540-{len(full) - 1}/{len(full)}"
    assert part.content == full[65540:]
    middle = requests.get(url, headers={"Range": "bytes=10-19"})
    assert (middle.status_code, middle.content) == (206, full[10:20])
    beyond = requests.get(url, headers={"Range": f"bytes={len(full)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(full)}"


def test_single_use_link_answers_410_after_a_complete_download(emu: AtlasEmulator, seed: Seed) -> None:
    url = ready_url(emu, seed)
    assert requests.head(url).status_code == 200  # HEAD does not use the link
    assert requests.get(url).status_code == 200
    again = requests.get(url)
    assert again.status_code == 410


def test_used_sharded_component_link_shows_null_download_url(emu: AtlasEmulator, seed: Seed) -> None:
    job = emu.add_restore_job(seed.group_id, "Sharded0")
    first = job["components"][0]["downloadUrl"]
    assert requests.get(first).status_code == 200
    after = emu.restore_job(seed.group_id, "Sharded0", job["id"])
    assert after["components"][0]["downloadUrl"] is None
    assert after["components"][1]["downloadUrl"] is not None


def test_cut_download_keeps_the_link_usable_and_resumable(emu: AtlasEmulator, seed: Seed) -> None:
    url = ready_url(emu, seed, download_size=100_000)
    emu.faults.add("download", "cut", after_bytes=5_000)
    received = bytearray()

    def read_all() -> None:
        with requests.get(url, stream=True) as resp:
            assert int(resp.headers["Content-Length"]) > 5_000
            for chunk in resp.iter_content(1024):
                received.extend(chunk)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_all()
    assert 0 < len(received) <= 5_000  # a client may drop the last partial chunk
    rest = requests.get(url, headers={"Range": f"bytes={len(received)}-"})
    assert rest.status_code == 206
    whole = bytes(received) + rest.content
    with tarfile.open(fileobj=io.BytesIO(whole), mode="r:gz") as archive:
        assert len(archive.getmembers()) == 3
    assert requests.get(url).status_code == 410


def test_links_of_pending_expired_and_unknown_jobs(
    emu: AtlasEmulator, seed: Seed, clock: ManualClock
) -> None:
    job = emu.add_restore_job(seed.group_id, "Cluster0", ready_after=60)
    [url] = emu.download_urls(seed.group_id, "Cluster0", job["id"])
    assert requests.get(url).status_code == 404
    clock.advance(60)
    assert requests.head(url).status_code == 200
    clock.advance(3600)
    assert requests.get(url).status_code == 410
    assert requests.get(url.replace("/backup/download/", "/backup/download/x")).status_code == 404
    assert requests.get(f"{emu.base_url}/backup/download/nope/restore-x.tar.gz").status_code == 404


def test_forced_expiry_and_removal_take_links_away(emu: AtlasEmulator, seed: Seed) -> None:
    expiring = emu.add_restore_job(seed.group_id, "Cluster0")
    [url] = emu.download_urls(seed.group_id, "Cluster0", expiring["id"])
    emu.expire_job(seed.group_id, "Cluster0", expiring["id"])
    assert requests.get(url).status_code == 410
    assert emu.restore_job(seed.group_id, "Cluster0", expiring["id"])["deliveryUrl"] == []
    removed = emu.add_restore_job(seed.group_id, "Cluster0")
    [url] = emu.download_urls(seed.group_id, "Cluster0", removed["id"])
    emu.remove_job(seed.group_id, "Cluster0", removed["id"])
    assert requests.get(url).status_code == 404


_SERVER = textwrap.dedent(
    """
    import sys
    from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock

    def hwm_kib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    with AtlasEmulator(clock=ManualClock()) as emu:
        gid = emu.add_project()
        emu.add_cluster(gid, "Cluster0")
        job = emu.add_restore_job(gid, "Cluster0", download_size=int(sys.argv[1]))
        print(job["id"], emu.restore_job(gid, "Cluster0", job["id"])["deliveryUrl"][0], hwm_kib(), flush=True)
        sys.stdin.readline()
        print(hwm_kib(), flush=True)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_large_download_streams_with_flat_server_memory() -> None:
    size = 512 << 20
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(size)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdin is not None
        _job_id, url, before_kib = proc.stdout.readline().split()
        received = 0
        with requests.get(url, stream=True, timeout=60) as resp:
            assert int(resp.headers["Content-Length"]) >= size
            for chunk in resp.iter_content(1 << 20):
                received += len(chunk)
        assert received == int(resp.headers["Content-Length"])
        proc.stdin.write("done\n")
        proc.stdin.flush()
        after_kib = int(proc.stdout.readline())
        assert after_kib - int(before_kib) < 32 * 1024, (before_kib, after_kib)
    finally:
        proc.kill()
        proc.wait(timeout=10)
