"""PartFile: a local file written under a temporary name, handed to the disk as it grows, renamed only when whole."""

from __future__ import annotations

import os

import pytest

from airflow_provider_atlas_restore.download import local_file
from airflow_provider_atlas_restore.download.destination import DownloadDestination
from airflow_provider_atlas_restore.download.local_file import read_file_metadata

STEP = 1 << 16
SHA256 = "ab" * 32


@pytest.fixture
def advice(monkeypatch) -> list[tuple[int, int, int]]:
    """Record the write-back advice given to the kernel (and still give it), with a small step."""
    calls: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, which: int) -> None:
        calls.append((offset, length, which))
        real(fd, offset, length, which)

    monkeypatch.setattr(local_file, "WRITEBACK_STEP", STEP)
    monkeypatch.setattr(local_file.os, "posix_fadvise", record)
    return calls


def write_in_chunks(part: local_file.PartFile, data: bytes, size: int = 1 << 14) -> None:
    for start in range(0, len(data), size):
        part.write(data[start : start + size])


def test_a_growing_local_file_is_handed_to_the_disk_step_by_step(tmp_path, advice):
    destination = DownloadDestination(tmp_path)
    part = destination.open_part("restore.tar.gz")
    write_in_chunks(part, os.urandom(5 * STEP))
    part.commit(SHA256)
    # Each piece of advice covers the step before (written by now) and the new one; together, all.
    assert advice == [
        (0, STEP, os.POSIX_FADV_DONTNEED),
        (0, 2 * STEP, os.POSIX_FADV_DONTNEED),
        (STEP, 2 * STEP, os.POSIX_FADV_DONTNEED),
        (2 * STEP, 2 * STEP, os.POSIX_FADV_DONTNEED),
        (3 * STEP, 2 * STEP, os.POSIX_FADV_DONTNEED),
    ]


def test_write_back_keeps_every_byte(tmp_path, advice):
    data = os.urandom(7 * STEP + 123)
    part = DownloadDestination(tmp_path).open_part("restore.tar.gz")
    write_in_chunks(part, data, size=4093)
    part.commit(SHA256)
    assert advice
    assert (tmp_path / "restore.tar.gz").read_bytes() == data


def test_a_restarted_file_is_handed_to_the_disk_from_byte_zero(tmp_path, advice):
    part = DownloadDestination(tmp_path).open_part("restore.tar.gz")
    write_in_chunks(part, os.urandom(3 * STEP))
    part.restart()
    advice.clear()
    write_in_chunks(part, b"x" * STEP)
    part.commit(SHA256)
    assert advice == [(0, STEP, os.POSIX_FADV_DONTNEED)]
    assert (tmp_path / "restore.tar.gz").read_bytes() == b"x" * STEP


def test_a_file_uri_is_written_as_a_local_file_and_reported_as_its_uri(tmp_path, advice):
    destination = DownloadDestination(f"file://{tmp_path}/bucket")
    destination.prepare()
    part = destination.open_part("restore.tar.gz")
    write_in_chunks(part, os.urandom(3 * STEP))
    assert [name for name in os.listdir(tmp_path / "bucket") if name.endswith(".part")]
    part.commit(SHA256)
    assert advice  # the local write path, with its write-back, not fsspec's temporary file
    assert (tmp_path / "bucket" / "restore.tar.gz").stat().st_size == 3 * STEP
    assert part.uri == f"file://{tmp_path}/bucket/restore.tar.gz"
    assert os.listdir(tmp_path / "bucket") == ["restore.tar.gz"]


def test_a_committed_local_file_carries_its_metadata_where_the_file_system_keeps_it(tmp_path):
    part = DownloadDestination(tmp_path).open_part("restore.tar.gz", {"atlas-snapshot-id": "s" * 24})
    part.write(b"data")
    part.commit(SHA256)
    metadata = read_file_metadata(tmp_path / "restore.tar.gz")
    if not metadata:
        pytest.skip("this file system keeps no user extended attributes")
    assert metadata == {"atlas-snapshot-id": "s" * 24, "sha256": SHA256}


def test_nothing_appears_at_the_final_name_before_commit(tmp_path):
    part = DownloadDestination(tmp_path).open_part("restore.tar.gz")
    part.write(b"partial")
    assert not (tmp_path / "restore.tar.gz").exists()
    part.discard()
    assert os.listdir(tmp_path) == []
