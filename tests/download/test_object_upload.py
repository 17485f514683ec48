"""ObjectUpload: one uncommitted upload to the final key, fed through a bounded hand-off, on a real S3 server."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from airflow_provider_atlas_restore.defaults import MAX_UPLOAD_PARTS
from airflow_provider_atlas_restore.download.destination import DownloadDestination
from airflow_provider_atlas_restore.download.object_upload import HandOff, part_size_for
from airflow_provider_atlas_restore.exceptions import AtlasDestinationError
from tests.storage_servers import object_keys, unfinished_uploads

MIB = 1 << 20


def test_the_hand_off_makes_the_sender_wait_once_its_limit_is_reached():
    hand_off = HandOff(limit=3)
    assert hand_off.put(b"ab")
    blocked = threading.Event()
    passed = threading.Event()

    def send() -> None:
        blocked.set()
        hand_off.put(b"cd")  # 2 + 2 > 3: waits for the receiver
        passed.set()

    sender = threading.Thread(target=send)
    sender.start()
    blocked.wait()
    assert not passed.wait(0.2)
    assert hand_off.get() == b"ab"
    assert passed.wait(5)
    assert hand_off.get() == b"cd"
    sender.join()


def test_a_chunk_bigger_than_the_limit_still_goes_through_alone():
    hand_off = HandOff(limit=2)
    assert hand_off.put(b"much bigger than two")
    assert hand_off.get() == b"much bigger than two"


def test_cancelling_the_hand_off_wakes_a_waiting_sender_with_false():
    hand_off = HandOff(limit=1)
    hand_off.put(b"a")
    outcome: list[bool] = []
    sender = threading.Thread(target=lambda: outcome.append(hand_off.put(b"b")))
    sender.start()
    time.sleep(0.05)
    hand_off.cancel()
    sender.join(5)
    assert outcome == [False]
    assert hand_off.get() is None


def test_the_part_size_grows_only_for_files_beyond_the_part_count():
    part = 16 * MIB
    assert part_size_for(None, part) == part
    assert part_size_for(part * MAX_UPLOAD_PARTS, part) == part
    grown = part_size_for(part * MAX_UPLOAD_PARTS + 1, part)
    assert grown > part
    assert grown % MIB == 0
    assert grown * MAX_UPLOAD_PARTS >= part * MAX_UPLOAD_PARTS + 1


@pytest.fixture
def destination(s3_bucket, aws_connection) -> DownloadDestination:
    prepared = DownloadDestination(f"s3://{s3_bucket}/restores/", aws_connection, part_size=5 * MIB)
    prepared.prepare()
    return prepared


def write_in_chunks(upload, data: bytes, size: int = MIB) -> None:
    for start in range(0, len(data), size):
        upload.write(memoryview(data)[start : start + size])


def test_nothing_is_visible_until_commit_and_the_sha256_is_tagged_after(destination, s3_server, s3_bucket):
    data = bytes(range(256)) * (48 * 1024)  # 12 MiB: three parts
    upload = destination.open_part("restore.tar.gz", {"atlas-snapshot-id": "a" * 24})
    write_in_chunks(upload, data)
    client = s3_server.client()
    deadline = time.monotonic() + 30
    while upload.uploaded < 5 * MIB:  # the first part went while later bytes were still coming
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert object_keys(client, s3_bucket) == []
    assert len(unfinished_uploads(client, s3_bucket)) == 1
    digest = hashlib.sha256(data).hexdigest()
    upload.commit(digest)
    assert object_keys(client, s3_bucket) == ["restores/restore.tar.gz"]
    assert client.get_object(Bucket=s3_bucket, Key="restores/restore.tar.gz")["Body"].read() == data
    tags = client.get_object_tagging(Bucket=s3_bucket, Key="restores/restore.tar.gz")["TagSet"]
    assert tags == [{"Key": "sha256", "Value": digest}]
    assert unfinished_uploads(client, s3_bucket) == []


def test_restart_aborts_the_upload_and_the_next_one_holds_only_the_new_bytes(
    destination, s3_server, s3_bucket
):
    upload = destination.open_part("restore.tar.gz")
    write_in_chunks(upload, b"o" * (11 * MIB))
    upload.restart()
    client = s3_server.client()
    assert unfinished_uploads(client, s3_bucket) == []
    upload.write(b"new bytes")
    upload.commit(hashlib.sha256(b"new bytes").hexdigest())
    assert client.get_object(Bucket=s3_bucket, Key="restores/restore.tar.gz")["Body"].read() == b"new bytes"
    assert unfinished_uploads(client, s3_bucket) == []


def test_discard_after_parts_were_sent_leaves_no_object_and_no_upload(destination, s3_server, s3_bucket):
    upload = destination.open_part("restore.tar.gz")
    write_in_chunks(upload, b"p" * (11 * MIB))
    upload.discard()
    client = s3_server.client()
    assert object_keys(client, s3_bucket) == []
    assert unfinished_uploads(client, s3_bucket) == []


def test_a_failing_upload_fails_the_next_write_naming_the_object(s3_server, s3_bucket, aws_connection):
    destination = DownloadDestination(f"s3://{s3_bucket}/restores/", aws_connection, part_size=5 * MIB)
    upload = destination.open_part("restore.tar.gz")
    s3_server.client().delete_bucket(Bucket=s3_bucket)  # the bucket goes away mid-download

    def send_everything() -> None:
        for _ in range(64):
            upload.write(b"x" * MIB)
        upload.commit("0" * 64)

    with pytest.raises(
        AtlasDestinationError, match=f"Cannot upload to s3://{s3_bucket}/restores/restore.tar.gz"
    ):
        send_everything()
    upload.discard()
    s3_server.client().create_bucket(Bucket=s3_bucket)  # for the fixture's clean-up
