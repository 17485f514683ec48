"""The snapshot downloader against a hostile server on loopback: lengths, stalls, TLS, Retry-After, bad links."""

from __future__ import annotations

import gzip
import logging
import os
import re
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_atlas_restore.download.downloader import (
    AtlasDownloadError,
    CorruptDownloadError,
    DownloadDestination,
    DownloadLink,
    SnapshotDownloader,
)
from tests.download_fixtures import make_archive, sha256_of
from tests.hostile_server import HostileServer, Reply, SeenRequest

LOG = logging.getLogger("tests.download_hostile")
NAME = "restore-job.tar.gz"
#: Two gzip members: a reader that stops after the first sees a valid, but half, archive.
FIRST_MEMBER = gzip.compress(os.urandom(40_000))
SECOND_MEMBER = gzip.compress(os.urandom(40_000))


def downloader(sleeps: list[float] | None = None, **options: Any) -> SnapshotDownloader:
    options.setdefault("allow_http", True)
    session = options.pop("session", None) or requests.Session()
    return SnapshotDownloader(session, LOG, sleep=(sleeps if sleeps is not None else []).append, **options)


def destination(folder: Path) -> DownloadDestination:
    prepared = DownloadDestination(folder)
    prepared.prepare()
    return prepared


def requested_range(request: SeenRequest) -> tuple[int, int | None] | None:
    found = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("range", ""))
    if not found:
        return None
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


def ranged(payload: bytes, request: SeenRequest) -> Reply:
    """Answer like a file server: 200 with the whole payload, 206 for a Range, 416 past its end."""
    wanted = requested_range(request)
    if wanted is None:
        return Reply(body=payload)
    start = wanted[0]
    if start >= len(payload):
        return Reply(416, [("Content-Range", f"bytes */{len(payload)}")], b"")
    content_range = f"bytes {start}-{len(payload) - 1}/{len(payload)}"
    return Reply(206, [("Content-Range", content_range)], payload[start:])


@pytest.fixture
def tls_server() -> Iterator[HostileServer]:
    server = HostileServer(tls=True).start()
    yield server
    server.stop()


# --- A close-delimited body (no Content-Length) is committed only once its length is proven.


def test_close_delimited_half_archive_is_refused_leaving_nothing(hostile_server, tmp_path):
    def answer(request: SeenRequest) -> Reply:
        if requested_range(request):
            return Reply(200, body=FIRST_MEMBER + SECOND_MEMBER)  # ignores Range: proves nothing
        return Reply(body=FIRST_MEMBER, close_delimited=True)

    hostile_server.handler = answer
    with pytest.raises(CorruptDownloadError, match=rf"{NAME}: the server sent it without Content-Length"):
        downloader().download(DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path))
    assert os.listdir(tmp_path) == []  # no final name, no part file


def test_close_delimited_body_whose_length_a_416_proves_is_committed(hostile_server, tmp_path):
    payload = FIRST_MEMBER + SECOND_MEMBER

    def answer(request: SeenRequest) -> Reply:
        return (
            ranged(payload, request)
            if requested_range(request)
            else Reply(body=payload, close_delimited=True)
        )

    hostile_server.handler = answer
    result = downloader().download(DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path))
    assert [r.headers.get("range") for r in hostile_server.requests] == [None, f"bytes={len(payload)}-"]
    assert (result.bytes, result.sha256) == (len(payload), sha256_of(payload))
    assert os.listdir(tmp_path) == [NAME]


def test_close_delimited_body_cut_between_members_is_resumed_when_the_server_has_more(
    hostile_server, tmp_path
):
    payload = FIRST_MEMBER + SECOND_MEMBER

    def answer(request: SeenRequest) -> Reply:
        if requested_range(request):
            return ranged(payload, request)
        return Reply(body=FIRST_MEMBER, close_delimited=True)  # cut exactly at the member boundary

    hostile_server.handler = answer
    result = downloader().download(DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path))
    assert [r.headers.get("range") for r in hostile_server.requests] == [None, f"bytes={len(FIRST_MEMBER)}-"]
    assert result.sha256 == sha256_of(payload)
    assert Path(result.path).read_bytes() == payload


# --- The read timeout is a stall detector: a silent server is resumed, a slow trickle is not killed.


@pytest.mark.timeout(60)
def test_server_that_goes_silent_is_interrupted_after_the_read_timeout_and_resumed(hostile_server, tmp_path):
    payload = make_archive(300_000)
    sent_before_stall = 100_000

    def stalls() -> Iterator[bytes]:
        yield payload[:sent_before_stall]
        time.sleep(3)  # nothing for longer than the read timeout; the client has gone by then

    def answer(request: SeenRequest) -> Reply:
        if requested_range(request):
            return ranged(payload, request)
        return Reply(headers=[("Content-Length", str(len(payload)))], body=stalls())

    hostile_server.handler = answer
    sleeps: list[float] = []
    result = downloader(sleeps, read_timeout=0.5).download(
        DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path)
    )
    assert [r.headers.get("range") for r in hostile_server.requests] == [None, f"bytes={sent_before_stall}-"]
    assert len(sleeps) == 1
    assert result.sha256 == sha256_of(payload)


@pytest.mark.timeout(60)
def test_slow_but_steady_trickle_is_not_killed(hostile_server, tmp_path):
    payload = make_archive(20_000)
    pieces = [payload[i : i + 2_000] for i in range(0, len(payload), 2_000)]
    # Each piece comes well within the read timeout, the whole body after several times it.
    hostile_server.handler = lambda request: Reply(
        headers=[("Content-Length", str(len(payload)))], body=pieces, delay_between_chunks=0.15
    )
    sleeps: list[float] = []
    result = downloader(sleeps, read_timeout=0.6).download(
        DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path)
    )
    assert len(hostile_server.requests) == 1
    assert sleeps == []
    assert result.sha256 == sha256_of(payload)


# --- The connection's verify holds even when REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE say otherwise.


def test_connection_ca_bundle_wins_over_the_ca_bundle_environment(tls_server, tmp_path, monkeypatch):
    from airflow_provider_atlas_restore.download.urls import download_session

    payload = make_archive(50_000)
    tls_server.handler = lambda request: Reply(body=payload)
    bogus = tmp_path / "bogus-ca.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bogus))
    config: Any = type("Config", (), {"verify": tls_server.ca_file, "proxies": {}})()
    folder = tmp_path / "out"
    result = downloader(session=download_session(config), allow_http=False).download(
        DownloadLink(f"{tls_server.base_url}/x", NAME), destination(folder)
    )
    assert result.sha256 == sha256_of(payload)
    assert os.listdir(folder) == [NAME]


# --- Retry-After as an HTTP date is honoured, with the one parser the API calls use.


def test_http_date_retry_after_is_honoured(hostile_server, tmp_path):
    payload = make_archive(20_000)
    answers = iter(
        [
            Reply(503, [("Retry-After", formatdate(time.time() + 8, usegmt=True))], b"busy"),
            Reply(body=payload),
        ]
    )
    hostile_server.handler = lambda request: next(answers)
    sleeps: list[float] = []
    result = downloader(sleeps).download(
        DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path)
    )
    assert result.sha256 == sha256_of(payload)
    assert len(sleeps) == 1
    assert sleeps[0] >= 6  # the date asked for about 8 s; the backoff alone would wait 1 s


# --- A malformed link is a clear download error naming the file, never the link.


@pytest.mark.parametrize("url", ["https://[::1/secret-token/file.tar.gz", "https://[not-an-ip]/secret-token"])
def test_malformed_link_is_a_clear_error_naming_the_file_not_the_link(tmp_path, url):
    with pytest.raises(
        AtlasDownloadError, match=f"Download of {NAME} failed: its link is not a valid URL"
    ) as raised:
        downloader(allow_http=False).download(DownloadLink(url, NAME), destination(tmp_path))
    assert "secret-token" not in str(raised.value)
    assert os.listdir(tmp_path) == []


def test_redirect_to_a_malformed_location_is_a_clear_error(hostile_server, tmp_path):
    hostile_server.handler = lambda request: Reply(302, [("Location", "http://[::1/secret-token")], b"")
    with pytest.raises(AtlasDownloadError, match=NAME) as raised:
        downloader().download(DownloadLink(f"{hostile_server.base_url}/x", NAME), destination(tmp_path))
    assert "secret-token" not in str(raised.value)
    assert os.listdir(tmp_path) == []
