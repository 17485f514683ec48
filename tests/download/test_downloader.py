"""The streaming snapshot downloader, over real loopback sockets (the emulator or a scripted server)."""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import subprocess
import sys
import tarfile
import textwrap
import threading
import traceback
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.common.compat.sdk import redact

from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.download.checks import StreamCheck
from airflow_provider_atlas_restore.download.destination import PartFile
from airflow_provider_atlas_restore.download.downloader import (
    AtlasDestinationError,
    AtlasDownloadError,
    CorruptDownloadError,
    DownloadDestination,
    DownloadLink,
    InsecureDownloadLinkError,
    SnapshotDownloader,
)
from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from tests.download_fixtures import FakeClock, FileServer, make_archive, served_sha256, sha256_of

LOG = logging.getLogger("tests.snapshot_download")
#: Size of the large download whose memory is measured; 1 GiB unless the environment says otherwise.
LARGE_DOWNLOAD_BYTES = int(os.environ.get("ATLAS_LARGE_DOWNLOAD_BYTES", str(1 << 30)))


@pytest.fixture
def emu() -> Iterator[AtlasEmulator]:
    emulator = AtlasEmulator(clock=ManualClock())
    with emulator:
        yield emulator


def ready_link(emu: AtlasEmulator, size: int) -> str:
    """Create a ready download job of ``size`` bytes on a replica set and return its link."""
    group_id = emu.add_project()
    emu.add_cluster(group_id, "Cluster0")
    snapshot = emu.add_snapshot(group_id, "Cluster0", size_bytes=size)
    job = emu.add_restore_job(group_id, "Cluster0", snapshot_id=snapshot["id"])
    return str(job["deliveryUrl"][0])


def make_downloader(sleeps: list[float] | None = None, **options: Any) -> SnapshotDownloader:
    options.setdefault("allow_http", True)
    return SnapshotDownloader(
        requests.Session(), LOG, sleep=(sleeps if sleeps is not None else []).append, **options
    )


def prepared(folder: Path | str) -> DownloadDestination:
    destination = DownloadDestination(folder)
    destination.prepare()
    return destination


def link(url: str, name: str = "restore-job.tar.gz") -> DownloadLink:
    return DownloadLink(url=url, file_name=name)


def test_replica_set_download_is_whole_with_the_served_sha256(emu, tmp_path):
    url = ready_link(emu, 3_000_000)
    result = make_downloader().download(link(url), prepared(tmp_path))
    emu.single_use_links = False  # to fetch the reference copy
    assert (result.bytes, result.sha256) == served_sha256(url)
    assert result.path == str(tmp_path / "restore-job.tar.gz")
    assert os.path.getsize(result.path) == result.bytes
    with tarfile.open(result.path, "r:gz") as archive:
        assert archive.getnames()


def test_dropped_connection_resumes_with_range_from_the_bytes_written(emu, tmp_path):
    url = ready_link(emu, 3_000_000)
    emu.faults.add(route="download", kind="cut", after_bytes=1_234_567, count=1)
    downloader = make_downloader()
    ranges: list[str | None] = []
    original_get = downloader.session.get

    def recording_get(*args: Any, **kwargs: Any) -> requests.Response:
        ranges.append(kwargs["headers"].get("Range"))
        return original_get(*args, **kwargs)

    downloader.session.get = recording_get  # type: ignore[method-assign]
    result = downloader.download(link(url), prepared(tmp_path))
    assert ranges == [None, "bytes=1234567-"]
    assert emu.stats.count(route="download", status=200) == 1
    assert emu.stats.count(route="download", status=206) == 1
    emu.single_use_links = False
    assert (result.bytes, result.sha256) == served_sha256(url)


def test_resumed_download_resends_no_byte_already_received(tmp_path):
    payload = make_archive(2_000_000)
    with FileServer(payload, cuts=[700_000, 500_000]) as server:
        result = make_downloader().download(link(server.url), prepared(tmp_path))
    assert [item.range_header for item in server.served] == [None, "bytes=700000-", "bytes=1200000-"]
    assert server.bytes_sent - len(payload) == 0
    assert result.sha256 == sha256_of(payload)


def test_resume_sends_if_range_with_a_strong_etag(tmp_path):
    with FileServer(make_archive(500_000), cuts=[100_000], etag='"v1"') as server:
        make_downloader().download(link(server.url), prepared(tmp_path))
    assert server.if_range == [None, '"v1"']


def test_redirect_is_followed_and_its_target_masked(tmp_path, log_text):
    payload = make_archive(200_000)
    with FileServer(payload, redirect=True) as server:
        result = make_downloader().download(link(server.url), prepared(tmp_path))
    assert [item.status for item in server.served] == [302, 200]
    assert result.sha256 == sha256_of(payload)
    moved = [line for line in log_text().splitlines() if '"GET /moved/' in line]
    assert moved
    assert all(f"{server.secret}-moved" not in redact(line) for line in moved)


def test_waits_between_attempts_back_off(tmp_path):
    with FileServer(make_archive(500_000), cuts=[1000, 1000, 1000]) as server:
        sleeps: list[float] = []
        make_downloader(sleeps).download(link(server.url), prepared(tmp_path))
    assert sleeps == [1.0, 2.0, 4.0]


def test_server_ignoring_range_makes_the_download_start_again(tmp_path, log_text):
    payload = make_archive(1_500_000)
    with FileServer(payload, honour_range=False, cuts=[600_000]) as server:
        result = make_downloader().download(link(server.url), prepared(tmp_path))
    assert [(item.range_header, item.status) for item in server.served] == [
        (None, 200),
        ("bytes=600000-", 200),
    ]
    assert (result.bytes, result.sha256) == (len(payload), sha256_of(payload))
    assert Path(result.path).read_bytes() == payload
    assert "starting again from byte 0" in log_text()


def test_content_range_at_another_byte_makes_the_download_start_again(tmp_path):
    payload = make_archive(1_500_000)
    with FileServer(payload, cuts=[600_000], range_shift=100) as server:
        result = make_downloader().download(link(server.url), prepared(tmp_path))
    assert [item.range_header for item in server.served] == [None, "bytes=600000-", None]
    assert Path(result.path).read_bytes() == payload


def test_busy_server_answer_is_retried(tmp_path):
    payload = make_archive(200_000)
    with FileServer(payload, statuses=[503]) as server:
        sleeps: list[float] = []
        result = make_downloader(sleeps).download(link(server.url), prepared(tmp_path))
    assert [item.status for item in server.served] == [503, 200]
    assert sleeps == [1.0]
    assert result.sha256 == sha256_of(payload)


def test_gives_up_after_max_attempts_leaving_nothing_behind(emu, tmp_path):
    url = ready_link(emu, 500_000)
    emu.faults.add(route="download", kind="cut", after_bytes=10_000, count=None)
    sleeps: list[float] = []
    downloader = make_downloader(sleeps, retry=RetryPolicy(max_attempts=3, initial_wait=0.5))
    with pytest.raises(AtlasDownloadError, match=r"after 3 attempt\(s\): the connection dropped"):
        downloader.download(link(url), prepared(tmp_path))
    assert emu.stats.count(route="download") == 3
    assert sleeps == [0.5, 1.0]
    assert list(tmp_path.iterdir()) == []


def test_gone_link_fails_at_once_with_advice(tmp_path):
    with (
        FileServer(make_archive(10_000), statuses=[410]) as server,
        pytest.raises(AtlasDownloadError, match="single-use") as raised,
    ):
        make_downloader().download(link(server.url), prepared(tmp_path))
    assert len(server.served) == 1
    assert not isinstance(raised.value, CorruptDownloadError)
    assert list(tmp_path.iterdir()) == []


def test_truncated_gzip_is_rejected(tmp_path):
    with (
        FileServer(make_archive(300_000)[:-20]) as server,
        pytest.raises(CorruptDownloadError, match="truncated"),
    ):
        make_downloader().download(link(server.url), prepared(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_corrupt_gzip_is_rejected(tmp_path):
    payload = bytearray(make_archive(300_000))
    payload[150_000] ^= 0xFF
    with (
        FileServer(bytes(payload)) as server,
        pytest.raises(CorruptDownloadError, match="not a valid gzip archive"),
    ):
        make_downloader().download(link(server.url), prepared(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_content_length_longer_than_the_archive_is_rejected(tmp_path):
    with (
        FileServer(make_archive(300_000), length_delta=10) as server,
        pytest.raises(CorruptDownloadError, match=r"announced \d+ \(Content-Length\)"),
    ):
        make_downloader().download(link(server.url), prepared(tmp_path))
    assert len(server.served) == 1
    assert list(tmp_path.iterdir()) == []


def test_plain_http_link_is_refused_unless_allowed(tmp_path):
    with FileServer(make_archive(10_000)) as server:
        with pytest.raises(InsecureDownloadLinkError, match=r"allow_http=True.*allow_http_downloads"):
            make_downloader(allow_http=False).download(link(server.url), prepared(tmp_path))
        assert server.served == []
        assert make_downloader(allow_http=True).download(link(server.url), prepared(tmp_path)).bytes


def test_link_with_another_scheme_is_refused_even_with_http_allowed(tmp_path):
    with pytest.raises(InsecureDownloadLinkError, match="not an https URL"):
        make_downloader(allow_http=True).download(link("ftp://127.0.0.1/x.tar.gz"), prepared(tmp_path))


def test_link_never_appears_in_logs_errors_or_results(tmp_path, log_text):
    payload = make_archive(300_000)
    with FileServer(payload, cuts=[100_000], statuses=[503]) as server:
        result = make_downloader(progress_interval=0).download(link(server.url), prepared(tmp_path))
        server.statuses.append(410)
        with pytest.raises(AtlasDownloadError) as raised:
            make_downloader().download(link(server.url, "second.tar.gz"), prepared(tmp_path))
        secret = server.secret
    texts = [
        json.dumps(result.to_dict()),
        repr(result),
        repr(link(server.url)),
        "".join(traceback.format_exception(raised.value)),
    ]
    assert all(secret not in text and "127.0.0.1" not in text for text in texts)
    own_lines = [line for line in log_text().splitlines() if "urllib3" not in line]
    assert any("interrupted" in line for line in own_lines)  # the logs did cover the drop and retry
    assert all(secret not in line for line in own_lines)


def test_link_paths_in_http_library_debug_lines_are_masked(tmp_path, log_text):
    with FileServer(make_archive(50_000)) as server:
        make_downloader().download(link(server.url), prepared(tmp_path))
        secret = server.secret
    library_lines = [line for line in log_text().splitlines() if '"GET /download/' in line]
    assert library_lines  # urllib3 does log the request path at DEBUG level
    assert all(secret not in redact(line) for line in library_lines)


def test_progress_is_logged_at_most_once_per_interval(tmp_path, log_text):
    payload = make_archive(1_000_000)
    clock = FakeClock(step=1.0)  # each reading: one more second
    downloader = make_downloader(chunk_size=64 * 1024, progress_interval=5.0, monotonic=clock)
    with FileServer(payload) as server:
        downloader.download(link(server.url), prepared(tmp_path))
    lines = [line for line in log_text().splitlines() if "Downloading restore-job.tar.gz:" in line]
    chunks = -(-len(payload) // (64 * 1024))
    assert len(lines) == chunks // 5
    assert f"of {len(payload)} bytes (" in lines[0]
    assert "%) received, at " in lines[0]
    assert lines[0].split(" at ")[1].startswith("0.1 MB/s")  # 5 chunks of 64 KiB in 5 s


def test_object_storage_destination_gets_the_file(tmp_path):
    payload = make_archive(400_000)
    with FileServer(payload) as server:
        destination = prepared(f"file://{tmp_path}/bucket/restores")
        result = make_downloader().download(link(server.url), destination)
    assert result.path == f"file://{tmp_path}/bucket/restores/restore-job.tar.gz"
    assert (tmp_path / "bucket" / "restores" / "restore-job.tar.gz").read_bytes() == payload
    assert os.listdir(tmp_path / "bucket" / "restores") == ["restore-job.tar.gz"]


def test_unwritable_destination_is_refused_naming_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"x")
    with pytest.raises(AtlasDestinationError, match=f"{blocker}/restores cannot be created or written"):
        DownloadDestination(blocker / "restores").prepare()
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


def test_destination_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"x")
    with pytest.raises(AtlasDestinationError, match="exists and is not a folder"):
        DownloadDestination(blocker).prepare()


def test_gzip_check_of_a_very_compressible_archive_holds_little_memory():
    archive = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MiB of zeros in ~64 KiB
    check = StreamCheck("zeros.tar.gz")
    tracemalloc.start()
    try:
        check.update(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check.finish(len(archive))
    assert peak < 8 * 1024 * 1024


def test_concatenated_gzip_members_are_accepted():
    archive = gzip.compress(b"first", mtime=0) + gzip.compress(b"second", mtime=0)
    check = StreamCheck("two-members.gz")
    for index in range(len(archive)):
        check.update(archive[index : index + 1])
    check.finish(len(archive))
    assert check.gzip_complete


_CHILD = textwrap.dedent(
    """
    import json, logging, resource, sys, time
    import requests
    from airflow_provider_atlas_restore.download.downloader import (
        DownloadDestination, DownloadLink, SnapshotDownloader)

    def status(key):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key))

    url, folder = sys.argv[1], sys.argv[2]
    destination = DownloadDestination(folder)
    destination.prepare()
    downloader = SnapshotDownloader(requests.Session(), logging.getLogger("child"), allow_http=True)
    try:  # reset the peak (VmHWM) to the current RSS, so the peak measured is the download's
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = status("VmRSS:")
    started = time.monotonic()
    result = downloader.download(DownloadLink(url=url, file_name="big.tar.gz"), destination)
    seconds = time.monotonic() - started
    print(json.dumps({"bytes": result.bytes, "seconds": seconds, "rss_before_kib": before,
                      "peak_rss_kib": status("VmHWM:"),
                      "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """
)


def test_memory_stays_flat_for_a_large_download(emu, tmp_path):
    url = ready_link(emu, LARGE_DOWNLOAD_BYTES)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert child.returncode == 0, child.stderr[-2000:]
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    written = tmp_path / "big.tar.gz"
    try:
        assert figures["bytes"] == written.stat().st_size >= LARGE_DOWNLOAD_BYTES
    finally:
        written.unlink(missing_ok=True)
    # Importing Airflow alone takes ~120 MB; the download itself must add (far) less than 100 MB.
    growth_mb = (figures["peak_rss_kib"] - figures["rss_before_kib"]) / 1024
    print(
        f"large download: {figures['bytes']} bytes at {figures['bytes'] / figures['seconds'] / 1e6:.0f} MB/s, "
        f"RSS before {figures['rss_before_kib'] / 1024:.0f} MB, peak {figures['peak_rss_kib'] / 1024:.0f} MB, "
        f"growth {growth_mb:.1f} MB"
    )
    assert growth_mb < 100


def test_disk_full_midway_fails_naming_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    real_write = PartFile.write
    written = [0]

    def fill_up(part: PartFile, data: bytes) -> None:
        if written[0] >= 300_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written[0] += len(data)
        real_write(part, data)

    monkeypatch.setattr(PartFile, "write", fill_up)
    with (
        FileServer(make_archive(1_000_000)) as server,
        pytest.raises(AtlasDestinationError, match=r"Cannot write .*\.part: No space left on device"),
    ):
        make_downloader(chunk_size=1 << 16).download(link(server.url), prepared(tmp_path))
    assert os.listdir(tmp_path) == []
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("atlas-download-")]
