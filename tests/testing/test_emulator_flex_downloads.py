"""Flex ``POST backup/download``: a ``snapshotUrl`` serving a real .tgz, with Range, faults and a 4 h life."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import FlexUrls, flex_post

FOUR_HOURS = 4 * 3600


def request_download(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: FlexUrls, size: int = 10_000
) -> dict[str, str]:
    """Make a COMPLETED flex snapshot of ``size`` bytes and ask ``backup/download`` for it."""
    snapshot = emu.add_flex_snapshot(seed.group_id, "Flex0", size_bytes=size)
    answer = flex_post(session, urls.download(), {"snapshotId": snapshot["id"]})
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def test_download_answer_is_a_download_job_with_a_snapshot_url(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    answer = request_download(emu, flex_seed, flex_session, flex_urls)
    listed = flex_session.get(flex_urls.job(answer["id"])).json()

    assert (answer["deliveryType"], answer["status"]) == ("DOWNLOAD", "COMPLETED")
    assert answer["snapshotUrl"].startswith(f"{emu.base_url}/backup/flex/")
    assert answer["snapshotUrl"].endswith(f"/{answer['snapshotId']}.tgz")
    assert listed["snapshotUrl"] == answer["snapshotUrl"]
    assert emu.flex_snapshot_urls(flex_seed.group_id, "Flex0") == [answer["snapshotUrl"]]
    assert emu.stats.count(route="download_flex_snapshot", method="POST", status=200) == 1


def test_snapshot_url_serves_the_archive_tests_know_the_sha256_of(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    answer = request_download(emu, flex_seed, flex_session, flex_urls, size=150_000)
    archive = emu.flex_snapshot_archive(flex_seed.group_id, "Flex0", answer["id"])
    expected = hashlib.sha256(b"".join(archive.iter_bytes())).hexdigest()
    challenges = emu.stats.challenges

    head = requests.head(answer["snapshotUrl"])
    fetched = requests.get(answer["snapshotUrl"])  # a bearer link: no Atlas credentials

    assert (head.status_code, int(head.headers["Content-Length"])) == (200, archive.length)
    assert fetched.headers["Content-Type"] == "application/gzip"
    assert hashlib.sha256(fetched.content).hexdigest() == expected
    with tarfile.open(fileobj=io.BytesIO(fetched.content), mode="r:gz") as tar:
        assert tar.getnames()[0] == f"flex-{answer['snapshotId']}/WiredTiger"
    assert emu.stats.count(route="flex_snapshot_file", status=200) == 2
    assert emu.stats.challenges == challenges


def test_cut_transfer_resumes_with_range(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    answer = request_download(emu, flex_seed, flex_session, flex_urls, size=100_000)
    whole = b"".join(emu.flex_snapshot_archive(flex_seed.group_id, "Flex0", answer["id"]).iter_bytes())
    emu.faults.add("flex_snapshot_file", "cut", after_bytes=5_000)
    received = bytearray()

    def read_all() -> None:
        with requests.get(answer["snapshotUrl"], stream=True) as cut:
            for chunk in cut.iter_content(1024):
                received.extend(chunk)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_all()

    rest = requests.get(answer["snapshotUrl"], headers={"Range": f"bytes={len(received)}-"})

    assert 0 < len(received) <= 5_000
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes {len(received)}-{len(whole) - 1}/{len(whole)}"
    assert bytes(received) + rest.content == whole
    beyond = requests.get(answer["snapshotUrl"], headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416


def test_corrupt_and_status_faults_act_on_the_snapshot_url(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    answer = request_download(emu, flex_seed, flex_session, flex_urls)
    whole = b"".join(emu.flex_snapshot_archive(flex_seed.group_id, "Flex0", answer["id"]).iter_bytes())
    emu.faults.add("flex_snapshot_file", "corrupt", after_bytes=100)
    corrupted = requests.get(answer["snapshotUrl"]).content
    emu.faults.add("flex_snapshot_file", "status", status=503)
    unavailable = requests.get(answer["snapshotUrl"])

    assert len(corrupted) == len(whole)
    assert [i for i in range(len(whole)) if corrupted[i] != whole[i]] == [100]
    assert unavailable.status_code == 503
    assert requests.get(answer["snapshotUrl"]).content == whole


def test_snapshot_url_works_for_four_hours_then_answers_410(
    emu: AtlasEmulator,
    flex_seed: Seed,
    clock: ManualClock,
    flex_session: requests.Session,
    flex_urls: FlexUrls,
) -> None:
    answer = request_download(emu, flex_seed, flex_session, flex_urls)
    clock.advance(FOUR_HOURS - 1)
    still = requests.get(answer["snapshotUrl"])
    again = requests.get(answer["snapshotUrl"])  # not single-use: valid for its four hours
    clock.advance(1)
    expired = requests.get(answer["snapshotUrl"])
    job = flex_session.get(flex_urls.job(answer["id"])).json()

    assert (still.status_code, again.status_code, expired.status_code) == (200, 200, 410)
    assert "snapshotUrl" not in job
    assert job["expirationDate"] == answer["expirationDate"]


def test_download_refuses_unknown_unfinished_and_missing_snapshots(
    emu: AtlasEmulator, flex_seed: Seed, flex_session: requests.Session, flex_urls: FlexUrls
) -> None:
    running = emu.add_flex_snapshot(flex_seed.group_id, "Flex0", status="RUNNING")
    answers = [
        flex_post(flex_session, flex_urls.download(), {}),
        flex_post(flex_session, flex_urls.download(), {"snapshotId": "xyz"}),
        flex_post(flex_session, flex_urls.download(), {"snapshotId": running["id"]}),
        flex_post(flex_session, flex_urls.download(), {"snapshotId": "0" * 24}),
        flex_post(flex_session, flex_urls.download("Missing"), {"snapshotId": "0" * 24}),
    ]

    assert [(a.status_code, a.json()["errorCode"]) for a in answers] == [
        (400, "MISSING_ATTRIBUTE"),
        (400, "INVALID_ATTRIBUTE"),
        (400, "INVALID_ATTRIBUTE"),
        (404, "RESOURCE_NOT_FOUND"),
        (404, "CLUSTER_NOT_FOUND"),
    ]
    assert requests.get(f"{emu.base_url}/backup/flex/nope/{running['id']}.tgz").status_code == 404
