"""Deterministic ``.tar.gz`` snapshot archives of any size, generated while streaming.

The archive is a real gzip file whose deflate stream uses *stored* blocks (no compression),
so its exact length is known in closed form before a byte is produced, any byte range can be
generated directly (HTTP ``Range``), and the gzip CRC-32 is computed algebraically
(CRC-32 combination over the periodic content) instead of by reading the whole stream.
Memory use is a fixed ~0.5 MiB per archive, whatever its size.

It stays in the emulator, though only benchmarks and the e2e run ask for multi-GiB archives:
every download link the emulator serves (:mod:`.downloads`) is one of these archives, at the
snapshot's size, in tests and demos too; the size is a parameter, not a separate piece.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import tarfile
import zlib
from collections.abc import Iterator

__all__ = ["Tarball", "crc32_combine", "tarball"]

_BLOCK = 65_535  # largest stored deflate block
_PERIOD = 1 << 18  # the big data file repeats this many pseudo-random bytes
_CHUNK_BLOCKS = 16  # stored blocks per yielded chunk (~1 MiB)
_GZIP_HEADER_LEN = 10
_TRAILER_LEN = 8
_POLY = 0xEDB88320  # CRC-32, reflected


def _multmodp(a: int, b: int) -> int:
    """Multiply two polynomials modulo the CRC-32 polynomial (reflected bit order)."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) mod p, k = 0..31
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _x8nmodp(n: int) -> int:
    """Return x^(8n) modulo the CRC-32 polynomial: the shift for appending ``n`` bytes."""
    p = 1 << 31
    k = 3
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """Return the CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)``.

    :param crc1: CRC-32 of the first part.
    :param crc2: CRC-32 of the second part.
    :param len2: length in bytes of the second part.
    """
    return _multmodp(_x8nmodp(len2), crc1) ^ crc2


def _crc32_repeated(crc: int, length: int, times: int) -> int:
    """Return the CRC-32 of a block (``crc``, ``length`` bytes) repeated ``times`` times."""
    acc = 0
    power_crc, power_len = crc, length
    while times:
        if times & 1:
            acc = crc32_combine(acc, power_crc, power_len)
        power_crc = crc32_combine(power_crc, power_crc, power_len)
        power_len *= 2
        times >>= 1
    return acc


def _member(name: str, size: int, mtime: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    info.uname = info.gname = "mongod"
    return info.tobuf(format=tarfile.USTAR_FORMAT)


class Tarball:
    """One deterministic archive: ``restore-<name>/`` with WiredTiger-looking files.

    :param name: archive stem, e.g. ``restore-<snapshotId>``; also seeds the content.
    :param size: wanted length of the ``.tar.gz`` in bytes; the real length (``length``)
        is the smallest possible at or above it, at most ~530 bytes more.
    :param mtime: modification time stamped into the gzip header and tar members.
    """

    def __init__(self, name: str, size: int, mtime: int = 0) -> None:
        self.name = name
        self.mtime = int(mtime)
        rng = random.Random(name)
        period = rng.randbytes(_PERIOD)
        self._doubled = period + period
        self._period_crc = zlib.crc32(period)
        small = {
            f"{name}/WiredTiger": b"WiredTiger\nWiredTiger 11.3.0: (May  1, 2025)\n",
            f"{name}/storage.bson": b"\x05\x00\x00\x00\x00",
        }
        head = io.BytesIO()
        for member, data in small.items():
            head.write(_member(member, len(data), self.mtime))
            head.write(data + b"\0" * (-len(data) % 512))
        fixed = head.tell() + 512 + 1024 + _GZIP_HEADER_LEN + _TRAILER_LEN
        blocks = max(1, -(-max(size, 0) // _BLOCK))
        self.data_size = max(0, size - fixed - 5 * blocks)
        head.write(_member(f"{name}/collection-0-{zlib.crc32(name.encode())}.wt", self.data_size, self.mtime))
        self._prefix = head.getvalue()
        self._suffix = b"\0" * (-self.data_size % 512 + 1024)
        self.tar_length = len(self._prefix) + self.data_size + len(self._suffix)
        self.blocks = max(1, -(-self.tar_length // _BLOCK))
        self.length = _GZIP_HEADER_LEN + self.tar_length + 5 * self.blocks + _TRAILER_LEN
        self.crc = self._compute_crc()
        self._header = b"\x1f\x8b\x08\x00" + struct.pack("<I", self.mtime & 0xFFFFFFFF) + b"\x00\xff"
        self._trailer = struct.pack("<II", self.crc, self.tar_length & 0xFFFFFFFF)

    def _compute_crc(self) -> int:
        crc = zlib.crc32(self._prefix)
        whole, rest = divmod(self.data_size, _PERIOD)
        crc = crc32_combine(crc, _crc32_repeated(self._period_crc, _PERIOD, whole), whole * _PERIOD)
        crc = crc32_combine(crc, zlib.crc32(self._doubled[:rest]), rest)
        return crc32_combine(crc, zlib.crc32(self._suffix), len(self._suffix))

    def _tar(self, pos: int, size: int) -> bytes:
        """Return ``size`` bytes of the tar stream from ``pos``."""
        parts: list[bytes] = []
        end = pos + size
        prefix_len = len(self._prefix)
        data_end = prefix_len + self.data_size
        if pos < prefix_len:
            parts.append(self._prefix[pos:end])
            pos = min(end, prefix_len)
        while pos < min(end, data_end):
            offset = (pos - prefix_len) % _PERIOD
            take = min(end, data_end) - pos
            take = min(take, _PERIOD)
            parts.append(self._doubled[offset : offset + take])
            pos += take
        if pos < end:
            parts.append(self._suffix[pos - data_end : end - data_end])
        return b"".join(parts)

    def iter_bytes(self, start: int = 0) -> Iterator[bytes]:
        """Yield the archive from byte ``start`` to the end, in chunks of about 1 MiB.

        :param start: first byte offset (for HTTP ``Range: bytes=start-``).
        """
        if start < 0 or start > self.length:
            raise ValueError(f"start {start} outside 0..{self.length}")
        pos = start
        if pos < _GZIP_HEADER_LEN:
            yield self._header[pos:]
            pos = _GZIP_HEADER_LEN
        body_end = _GZIP_HEADER_LEN + self.tar_length + 5 * self.blocks
        stride = _BLOCK + 5
        while pos < body_end:
            parts: list[bytes] = []
            for _ in range(_CHUNK_BLOCKS):
                if pos >= body_end:
                    break
                index, within = divmod(pos - _GZIP_HEADER_LEN, stride)
                tar_pos = index * _BLOCK
                block_len = min(_BLOCK, self.tar_length - tar_pos)
                block = (
                    bytes([1 if index == self.blocks - 1 else 0])
                    + struct.pack("<HH", block_len, block_len ^ 0xFFFF)
                    + self._tar(tar_pos, block_len)
                )
                parts.append(block[within:] if within else block)
                pos += len(block) - within
            yield b"".join(parts)
        trailer_pos = pos - body_end
        if trailer_pos < _TRAILER_LEN:
            yield self._trailer[trailer_pos:]


@functools.lru_cache(maxsize=64)
def tarball(name: str, size: int, mtime: int = 0) -> Tarball:
    """Return the (cached) archive for these parameters.

    :param name: archive stem and content seed.
    :param size: wanted length in bytes.
    :param mtime: modification time of the members.
    """
    return Tarball(name, size, mtime)
