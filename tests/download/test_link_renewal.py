"""A download whose link the server refuses mid-file asks its link source for a fresh one and resumes there."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from airflow.providers.common.compat.sdk import redact

from airflow_provider_atlas_restore.download.destination import DownloadDestination, DownloadLink
from airflow_provider_atlas_restore.download.downloader import (
    MAX_LINK_RENEWALS,
    AtlasDownloadError,
    SnapshotDownloader,
)
from tests.download_fixtures import FileServer, make_archive, sha256_of

LOG = logging.getLogger("tests.link_renewal")
NAME = "snapshot-6a6f78e0cab84da5c4476b25.tgz"


def downloader() -> SnapshotDownloader:
    return SnapshotDownloader(requests.Session(), LOG, allow_http=True, sleep=lambda seconds: None)


def prepared(folder: Path) -> DownloadDestination:
    destination = DownloadDestination(folder)
    destination.prepare()
    return destination


def test_a_link_refused_after_a_cut_is_renewed_and_the_download_resumes_where_it_was(tmp_path):
    payload = make_archive(300_000)
    renewed: list[str] = []
    with FileServer(payload, cuts=[100_000]) as first, FileServer(payload) as second:
        worker = downloader()
        worker.sleep = lambda seconds: first.statuses.append(410)  # the link expires while waiting

        def renew(old: DownloadLink) -> DownloadLink:
            renewed.append(old.file_name)
            return DownloadLink(url=second.url, file_name=old.file_name, origin=old.origin)

        result = worker.download(DownloadLink(url=first.url, file_name=NAME), prepared(tmp_path), renew)
    assert renewed == [NAME]
    assert [served.status for served in first.served] == [200, 410]
    received = first.served[0].body_bytes
    assert 0 < received < len(payload)
    assert [served.range_header for served in second.served] == [f"bytes={received}-"]  # resumed
    assert (result.bytes, result.sha256) == (len(payload), sha256_of(payload))
    assert (tmp_path / NAME).read_bytes() == payload
    assert second.url not in redact(second.url)  # the fresh link was masked as it arrived


def test_a_refused_link_with_nothing_to_renew_it_fails_naming_the_status_and_leaves_nothing(tmp_path):
    payload = make_archive(50_000)
    with (
        FileServer(payload, statuses=[410]) as server,
        pytest.raises(AtlasDownloadError, match="HTTP 410") as raised,
    ):
        downloader().download(DownloadLink(url=server.url, file_name=NAME), prepared(tmp_path))
    assert server.secret not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_renewal_stops_when_every_fresh_link_is_refused_too(tmp_path):
    payload = make_archive(50_000)
    renewed: list[str] = []
    with FileServer(payload, statuses=[403] * (MAX_LINK_RENEWALS + 2)) as server:

        def renew(old: DownloadLink) -> DownloadLink:
            renewed.append(old.file_name)
            return old

        with pytest.raises(AtlasDownloadError, match="HTTP 403"):
            downloader().download(DownloadLink(url=server.url, file_name=NAME), prepared(tmp_path), renew)
    assert len(renewed) == MAX_LINK_RENEWALS
    assert len(server.served) == MAX_LINK_RENEWALS + 1
    assert list(tmp_path.iterdir()) == []


def test_a_source_without_a_fresh_link_lets_the_refusal_fail_the_download(tmp_path):
    payload = make_archive(50_000)
    with FileServer(payload, statuses=[404]) as server, pytest.raises(AtlasDownloadError, match="HTTP 404"):
        downloader().download(
            DownloadLink(url=server.url, file_name=NAME), prepared(tmp_path), lambda old: None
        )
    assert list(tmp_path.iterdir()) == []
