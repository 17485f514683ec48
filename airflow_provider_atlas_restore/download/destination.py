"""Where snapshot files go: a local folder or an Airflow object storage folder, written atomically."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_atlas_restore.exceptions import AtlasDestinationError

#: Bytes between two write-backs of a local part file (see :meth:`PartFile._write_back`).
WRITEBACK_STEP = 64 << 20
#: A file name the destination accepts: one path segment of safe characters, not hidden.
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")


def is_safe_file_name(name: str) -> bool:
    """
    Return whether ``name`` is one plain path segment of safe characters (never ``/``, ``..``, NUL, control).

    ASCII letters, digits, ``.``, ``_`` and ``-``, at most 200 characters, not starting with a
    dot (so never ``.`` or ``..``, nor the name of a hidden part file).

    :param name: the proposed file name.
    """
    return isinstance(name, str) and bool(_SAFE_FILE_NAME.fullmatch(name))


@dataclass(frozen=True)
class DownloadLink:
    """
    One snapshot file to fetch.

    :param url: the secret bearer link (never shown in ``repr``, logs or messages).
    :param file_name: the name the file gets in the destination folder.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    """

    url: str = field(repr=False)
    file_name: str
    replica_set: str | None = None


@dataclass(frozen=True)
class DownloadResult:
    """
    A file written completely and checked.

    :param path: where it is: a local path or an object storage URI.
    :param bytes: its length.
    :param sha256: the hex sha256 of its content.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    """

    path: str
    bytes: int
    sha256: str
    replica_set: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON-ready form returned to XCom (no link in it)."""
        return {
            "path": self.path,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "replica_set": self.replica_set,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return :meth:`to_xcom` (the former name, kept for existing callers)."""
        return self.to_xcom()


class PartFile:
    """
    One file being written under a temporary name beside its final name.

    The output stays open across reconnects (object stores cannot append); :meth:`commit`
    renames it to the final name, :meth:`discard` removes it.

    :param final: the path the finished file gets.
    :param temp: the temporary path written meanwhile.
    """

    def __init__(self, final: Path | ObjectStoragePath, temp: Path | ObjectStoragePath) -> None:
        self.final = final
        self.temp = temp
        self._handle: IO[bytes] | Any | None = self._open()
        self._written = self._writeback_start = self._writeback_end = 0
        self._can_write_back = self.is_local and hasattr(os, "posix_fadvise")

    def _open(self) -> IO[bytes] | Any:
        try:
            return self.temp.open("wb")
        except OSError as error:
            raise AtlasDestinationError(f"Cannot write {self.temp}: {error.strerror or error}.") from None

    @property
    def is_local(self) -> bool:
        """Return whether the file is on the local file system (``pathlib``), not in object storage."""
        # Not isinstance(self.temp, Path): on Airflow 2.11 ObjectStoragePath is a Path subclass.
        return not isinstance(self.temp, ObjectStoragePath)

    def write(self, data: bytes | memoryview) -> None:
        """
        Append ``data`` to the temporary file.

        :param data: the next bytes; a view of a buffer that is reused once this returns is fine.
        """
        if self._handle is None:
            raise AtlasDestinationError(f"{self.temp} is already closed.")
        # Local files take the view as it is; object storage writers may keep what they are given.
        self._handle.write(data if self.is_local else bytes(data))
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

    def commit(self) -> None:
        """Flush and close the temporary file, then give it its final name (replacing any file there)."""
        handle = self._handle
        if handle is not None and self.is_local:
            handle.flush()
            os.fsync(handle.fileno())
        self._close()
        try:
            if isinstance(self.temp, ObjectStoragePath):
                self.temp.rename(self.final)
            else:
                os.replace(self.temp, str(self.final))
        except OSError as error:
            raise AtlasDestinationError(
                f"Cannot rename the finished download to {self.final}: {error.strerror or error}."
            ) from None

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


class DownloadDestination:
    """
    A folder for snapshot files: a local path, or any Airflow object storage URI (``s3://``, ``file://``).

    :param location: the folder: a local path, a URI, or an ``ObjectStoragePath``.
    :param conn_id: the Airflow connection for an object storage URI (such as an ``aws`` one).
    """

    def __init__(
        self, location: str | os.PathLike[str] | ObjectStoragePath, conn_id: str | None = None
    ) -> None:
        if isinstance(location, ObjectStoragePath):
            self.folder: Path | ObjectStoragePath = location
        elif isinstance(location, str) and "://" in location:
            self.folder = ObjectStoragePath(location, conn_id=conn_id)
        elif isinstance(location, (str, os.PathLike)) and str(location):
            self.folder = Path(location).expanduser()
        else:
            raise AtlasDestinationError(
                f"destination={location!r} is not a folder path or an object storage URI."
            )

    def __str__(self) -> str:
        return str(self.folder)

    def prepare(self) -> None:
        """Create the folder if needed and prove it writable with a probe file; raise if it is not."""
        folder = self.folder
        probe = folder / f".atlas-write-check-{uuid.uuid4().hex}"
        try:
            if folder.exists() and not folder.is_dir():
                raise AtlasDestinationError(f"Download destination {folder} exists and is not a folder.")
            folder.mkdir(parents=True, exist_ok=True)
            with probe.open("wb") as handle:
                handle.write(b"")
            probe.unlink()
        except AtlasDestinationError:
            raise
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise AtlasDestinationError(
                f"Download destination {folder} cannot be created or written: {reason}. "
                "Choose a folder this worker can write to."
            ) from None

    def path(self, name: str) -> Path | ObjectStoragePath:
        """
        Return the path of a file named ``name`` in the folder.

        :param name: a plain file name (no folder part).
        """
        return self.folder / name

    def open_part(self, name: str) -> PartFile:
        """
        Start writing the file ``name`` under a temporary name beside it.

        :param name: the final file name: one plain path segment (see :func:`is_safe_file_name`).
        """
        if not is_safe_file_name(name):  # the last guard: callers check names with a clearer error
            raise AtlasDestinationError(
                f"Refusing to write a file named {name[:80]!r} in {self.folder}: a file name must be one "
                "plain path segment of ASCII letters, digits, '.', '_' and '-', not starting with a dot."
            )
        temp = self.folder / f".{name}.{uuid.uuid4().hex[:12]}.part"
        return PartFile(self.folder / name, temp)
