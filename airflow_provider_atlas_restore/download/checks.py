"""Checks and progress reports for a snapshot download, fed one chunk at a time in constant memory."""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable
from typing import Any

from airflow_provider_atlas_restore.exceptions import CorruptDownloadError

#: The most decompressed bytes held at once while checking the gzip stream (they are discarded).
_INFLATE_WINDOW = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_MB = 1_000_000


class StreamCheck:
    """
    Count, hash (sha256) and gzip-check a download as it streams, without keeping its content.

    The gzip stream is inflated chunk by chunk with a bounded output window and the inflated
    bytes are dropped, so a highly compressible archive cannot use much memory. Concatenated
    gzip members are accepted, as ``gzip`` does.

    :param file_name: the file's name, for error messages.
    """

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far, for a download that starts again from byte 0."""
        self.bytes = 0
        self._gzip_bytes = 0
        self._sha256 = hashlib.sha256()
        self._inflater: Any = zlib.decompressobj(wbits=31)
        self._between_members = False

    @property
    def gzip_complete(self) -> bool:
        """Return whether the gzip stream has reached the trailer of its last member so far."""
        return self._between_members

    @property
    def sha256(self) -> str:
        """Return the hex sha256 of the bytes seen so far."""
        return self._sha256.hexdigest()

    def update(self, data: bytes | memoryview) -> None:
        """
        Account for the next chunk of the download: :meth:`count` it, then :meth:`check_gzip` it.

        :param data: the bytes that follow those already seen.
        """
        self.count(data)
        self.check_gzip(data)

    def count(self, data: bytes | memoryview) -> None:
        """
        Count and hash the next chunk; one half of :meth:`update`, which may run in its own thread.

        :param data: the bytes that follow those already counted.
        """
        self.bytes += len(data)
        self._sha256.update(data)

    def check_gzip(self, data: bytes | memoryview) -> None:
        """
        Inflate the next chunk and drop the output; the other half of :meth:`update`.

        :param data: the bytes that follow those already checked.
        """
        self._gzip_bytes += len(data)
        try:
            self._inflate(data)
        except zlib.error as error:
            raise CorruptDownloadError(
                f"{self.file_name} is not a valid gzip archive: {error} (near byte {self._gzip_bytes})."
            ) from None

    def _inflate(self, data: bytes | memoryview) -> None:
        while data:
            if self._between_members:
                if not _GZIP_MAGIC.startswith(data[:2]):
                    raise CorruptDownloadError(
                        f"{self.file_name} has {len(data)} unexpected bytes after the end of its "
                        f"gzip archive (at byte {self._gzip_bytes - len(data)})."
                    )
                self._inflater = zlib.decompressobj(wbits=31)  # another gzip member follows
                self._between_members = False
            self._inflater.decompress(data, _INFLATE_WINDOW)
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                self._between_members = True
            elif not data:
                self._drain()

    def _drain(self) -> None:
        """Inflate (and drop) output still held back by the window, until zlib wants more input."""
        while True:
            out = self._inflater.decompress(b"", _INFLATE_WINDOW)
            if self._inflater.eof:
                self._between_members = True
                if self._inflater.unused_data:
                    self._inflate(self._inflater.unused_data)
                return
            if len(out) < _INFLATE_WINDOW:
                return

    def finish(self, expected_length: int | None) -> None:
        """
        Raise :class:`CorruptDownloadError` unless the download is complete and valid.

        :param expected_length: the length the server announced, or ``None`` if it did not.
        """
        if expected_length is not None and self.bytes != expected_length:
            raise CorruptDownloadError(
                f"{self.file_name}: received {self.bytes} bytes but the server announced "
                f"{expected_length} (Content-Length)."
            )
        if not self._between_members:
            raise CorruptDownloadError(
                f"{self.file_name} is truncated: its gzip archive ends before its trailer "
                f"(after {self.bytes} bytes)."
            )


class ProgressLog:
    """
    Log a download's progress at most once per interval: bytes, percent of the total and speed.

    :param log: the logger (the operator's or hook's).
    :param file_name: what is downloaded, for the log lines.
    :param interval: seconds between two progress lines.
    :param monotonic: the clock; tests pass a fake one.
    """

    def __init__(
        self,
        log: logging.Logger | Any,
        file_name: str,
        interval: float,
        monotonic: Callable[[], float],
    ) -> None:
        self.log = log
        self.file_name = file_name
        self.interval = interval
        self.monotonic = monotonic
        self.started = monotonic()
        self._last_time = self.started
        self._last_bytes = 0

    def restart(self) -> None:
        """Measure speed afresh, for a download that starts again from byte 0."""
        self._last_time = self.monotonic()
        self._last_bytes = 0

    def update(self, done: int, total: int | None, uploaded: int | None = None) -> None:
        """
        Log a progress line if the interval has passed since the last one.

        :param done: bytes received so far.
        :param total: bytes expected in all, or ``None`` when unknown.
        :param uploaded: bytes sent to object storage so far (not yet committed), or ``None``
            for a local file.
        """
        now = self.monotonic()
        elapsed = now - self._last_time
        if elapsed < self.interval:
            return
        speed = (done - self._last_bytes) / elapsed / _MB if elapsed > 0 else 0.0
        self._last_time, self._last_bytes = now, done
        sent = "" if uploaded is None else f", {uploaded} uploaded (committed once verified)"
        if total:
            self.log.info(
                "Downloading %s: %d of %d bytes (%.1f%%) received%s, at %.1f MB/s",
                self.file_name,
                done,
                total,
                100.0 * done / total,
                sent,
                speed,
            )
        else:
            self.log.info(
                "Downloading %s: %d bytes received%s, at %.1f MB/s", self.file_name, done, sent, speed
            )

    def average_speed(self, done: int) -> float:
        """
        Return the mean speed since the start, in MB/s.

        :param done: bytes received in all.
        """
        elapsed = self.monotonic() - self.started
        return done / elapsed / _MB if elapsed > 0 else 0.0
