"""The streamed archive: exact length, valid gzip, CRC by combination, any start offset."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from airflow_provider_atlas_restore.testing.tarball import Tarball, crc32_combine


def test_crc32_combine_agrees_with_zlib() -> None:
    for a_len, b_len in [(0, 0), (1, 0), (0, 5), (1000, 777), (70_000, 3)]:
        a, b = os.urandom(a_len), os.urandom(b_len)
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@pytest.mark.parametrize("size", [0, 10_000, 65_535 * 2, 1 << 20, (1 << 18) * 3 + 17])
def test_length_is_exact_and_gzip_decodes(size: int) -> None:
    archive = Tarball("restore-abc", size, mtime=1_786_332_905)
    data = b"".join(archive.iter_bytes())
    assert len(data) == archive.length
    assert archive.length >= size
    assert len(gzip.decompress(data)) == archive.tar_length


def test_any_start_offset_gives_the_same_bytes() -> None:
    archive = Tarball("restore-abc", 200_000)
    data = b"".join(archive.iter_bytes())
    for start in (
        1,
        9,
        10,
        11,
        15,
        65_549,
        65_550,
        65_551,
        archive.length - 8,
        archive.length - 1,
        archive.length,
    ):
        assert b"".join(archive.iter_bytes(start)) == data[start:], start
    with pytest.raises(ValueError):  # noqa: PT011
        next(archive.iter_bytes(archive.length + 1))


def test_content_depends_only_on_name_and_size() -> None:
    assert b"".join(Tarball("a", 50_000).iter_bytes()) == b"".join(Tarball("a", 50_000).iter_bytes())
    assert b"".join(Tarball("a", 50_000).iter_bytes()) != b"".join(Tarball("b", 50_000).iter_bytes())


def test_huge_archive_is_described_without_generating_it() -> None:
    archive = Tarball("restore-huge", 2 << 30)
    assert 2 << 30 <= archive.length < (2 << 30) + 600
    first = next(archive.iter_bytes())
    assert first[:3] == b"\x1f\x8b\x08"
    tail = b"".join(archive.iter_bytes(archive.length - 8))
    assert int.from_bytes(tail[:4], "little") == archive.crc
