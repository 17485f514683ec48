"""A snapshot file on the local file system: written under a hidden name, fsynced, then renamed."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from airflow_provider_atlas_restore.exceptions import AtlasDestinationError

__all__ = ["WRITEBACK_STEP", "PartFile", "read_file_metadata"]

log = logging.getLogger(__name__)

#: Bytes between two write-backs of a local part file (see :meth:`PartFile._write_back`).
WRITEBACK_STEP = 64 << 20
#: Extended attributes live in the ``user.`` namespace on Linux.
_XATTR_PREFIX = "user."
#: Errors that mean "this file system keeps no extended attributes", not a failure.
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.E2BIG, errno.ENOSPC)


def read_file_metadata(path: Path) -> dict[str, str]:
    """
    Return the ``user.`` extended attributes of a local file as text (empty where unsupported).

    :param path: the file.
    """
    if not hasattr(os, "listxattr"):
        return {}
    try:
        names = os.listxattr(path)
        found = {}
        for name in names:
            if name.startswith(_XATTR_PREFIX):
                found[name[len(_XATTR_PREFIX) :]] = os.getxattr(path, name).decode("utf-8", "replace")
        return found
    except OSError:
        return {}


class PartFile:
    """
    One local file being written under a temporary name beside its final name.

    :meth:`commit` fsyncs it, records its metadata as ``user.`` extended attributes where the
    file system keeps them, and renames it to the final name; :meth:`discard` removes it.

    :param final: the path the finished file gets.
    :param temp: the temporary path written meanwhile (a hidden name in the same folder).
    :param metadata: text attributes recorded with the file (job, snapshot, cluster; then sha256).
    :param uri: how the result names the file (a ``file://`` URI when given as one); the path by default.
    """

    def __init__(
        self, final: Path, temp: Path, metadata: Mapping[str, str] | None = None, *, uri: str | None = None
    ) -> None:
        self.final = final
        self.temp = temp
        self._uri = uri or str(final)
        self.metadata = dict(metadata or {})
        self._handle: IO[bytes] | None = self._open()
        self._written = self._writeback_start = self._writeback_end = 0
        self._can_write_back = hasattr(os, "posix_fadvise")

    @property
    def uri(self) -> str:
        """Return where the finished file is, as the result reports it."""
        return self._uri

    @property
    def uploaded(self) -> int | None:
        """Return ``None``: a local file has no upload to report."""
        return None

    def _open(self) -> IO[bytes]:
        try:
            return self.temp.open("wb")
        except OSError as error:
            raise AtlasDestinationError(f"Cannot write {self.temp}: {error.strerror or error}.") from None

    def announce_size(self, total: int | None) -> None:
        """
        Take note of the file's whole length (nothing to do for a local file).

        :param total: the length the server announced, or ``None``.
        """

    def write(self, data: bytes | memoryview) -> None:
        """
        Append ``data`` to the temporary file.

        :param data: the next bytes; a view of a buffer that is reused once this returns is fine.
        """
        if self._handle is None:
            raise AtlasDestinationError(f"{self.temp} is already closed.")
        try:
            self._handle.write(data)
        except OSError as error:
            raise AtlasDestinationError(
                f"Cannot write {self.temp}: {error.strerror or type(error).__name__}."
            ) from None
        self._written += len(data)
        if self._written - self._writeback_end >= WRITEBACK_STEP and self._can_write_back:
            self._write_back(self._handle)

    def _write_back(self, handle: IO[bytes]) -> None:
        """
        Start writing the bytes so far to disk without waiting, and drop those already written.

        On Linux, ``POSIX_FADV_DONTNEED`` starts the write-back of dirty pages in the range and
        evicts the clean ones, so the disk works while the download goes on, :meth:`commit`'s
        fsync has at most about two steps left to wait for, and a snapshot of many GiB does
        not crowd the worker's page cache. It only advises: the data is safe either way.
        """
        handle.flush()
        start = self._writeback_start
        os.posix_fadvise(handle.fileno(), start, self._written - start, os.POSIX_FADV_DONTNEED)
        # Next time, cover this step again: its pages were still being written, now they are clean.
        self._writeback_start, self._writeback_end = self._writeback_end, self._written

    def restart(self) -> None:
        """Empty the temporary file, for a download that starts again from byte 0."""
        self._close()
        self._handle = self._open()
        self._written = self._writeback_start = self._writeback_end = 0

    def commit(self, sha256: str) -> None:
        """
        Flush, fsync and close the temporary file, then give it its final name (replacing any file there).

        :param sha256: the verified hex sha256 of the content, recorded with the other metadata.
        """
        handle = self._handle
        try:
            if handle is not None:
                handle.flush()
                self._record_metadata(handle.fileno(), {**self.metadata, "sha256": sha256})
                os.fsync(handle.fileno())
            self._close()
            os.replace(self.temp, self.final)
        except OSError as error:
            raise AtlasDestinationError(
                f"Cannot give the finished download its name {self.final}: {error.strerror or error}."
            ) from None

    def _record_metadata(self, descriptor: int, metadata: Mapping[str, str]) -> None:
        """Set each attribute as a ``user.`` extended attribute; skip them all where unsupported."""
        if not hasattr(os, "setxattr"):
            return
        for name, value in metadata.items():
            try:
                os.setxattr(descriptor, _XATTR_PREFIX + name, value.encode())
            except OSError as error:
                if error.errno not in _NO_XATTRS:
                    raise
                log.debug("%s keeps no extended attributes (%s): metadata not recorded", self.temp, error)
                return

    def discard(self) -> None:
        """Close and remove the temporary file; never raises."""
        # The failure that led here matters more than one while cleaning up.
        with contextlib.suppress(Exception):
            self._close()
        with contextlib.suppress(Exception):
            self.temp.unlink(missing_ok=True)

    def _close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
