"""Where snapshot files go: a local folder or an Airflow object storage folder, each written atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path

from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_atlas_restore.defaults import DEFAULT_UPLOAD_PART_SIZE
from airflow_provider_atlas_restore.download.local_file import WRITEBACK_STEP, PartFile, read_file_metadata
from airflow_provider_atlas_restore.download.object_store import (
    ObjectStore,
    StoredFile,
    describe_storage_error,
)
from airflow_provider_atlas_restore.download.object_upload import ObjectUpload, abandon
from airflow_provider_atlas_restore.download.snapshot_files import (
    DownloadLink,
    DownloadResult,
    FileWriter,
    LinkSource,
    SnapshotOrigin,
)
from airflow_provider_atlas_restore.exceptions import AtlasDestinationError, AtlasDestinationUnusableError

__all__ = [
    "WRITEBACK_STEP",
    "DownloadDestination",
    "DownloadLink",
    "DownloadResult",
    "FileWriter",
    "LinkSource",
    "PartFile",
    "SnapshotOrigin",
    "StoredFile",
    "is_safe_file_name",
]

log = logging.getLogger(__name__)

#: A file name the destination accepts: one path segment of safe characters, not hidden.
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
#: The key of the write check on object storage: an upload started and aborted, never an object.
WRITE_CHECK_NAME = ".atlas-write-check"
_LOCAL_PROTOCOLS = ("file", "local")


def is_safe_file_name(name: str) -> bool:
    """
    Return whether ``name`` is one plain path segment of safe characters (never ``/``, ``..``, NUL, control).

    ASCII letters, digits, ``.``, ``_`` and ``-``, at most 200 characters, not starting with a
    dot (so never ``.`` or ``..``, nor the name of a hidden part file).

    :param name: the proposed file name.
    """
    return isinstance(name, str) and bool(_SAFE_FILE_NAME.fullmatch(name))


class DownloadDestination:
    """
    A folder for snapshot files: a local path, or any Airflow object storage URI (``s3://``, ``gs://``).

    Local folders (and ``file://`` URIs) get a hidden temporary file beside the final name,
    fsynced, then renamed. Object storage gets one uncommitted upload straight to the final
    key, completed only once the file is verified and aborted otherwise: never a temporary
    object, never a copy.

    :param location: the folder: a local path, a URI, or an ``ObjectStoragePath``.
    :param conn_id: the Airflow connection for an object storage URI (an ``aws`` or
        ``google_cloud_platform`` one), as ``ObjectStoragePath`` takes it.
    :param part_size: bytes per part of an object storage upload.
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | ObjectStoragePath,
        conn_id: str | None = None,
        *,
        part_size: int = DEFAULT_UPLOAD_PART_SIZE,
    ) -> None:
        self.part_size = part_size
        self.store: ObjectStore | None = None
        try:
            if isinstance(location, ObjectStoragePath):
                folder: Path | ObjectStoragePath = location
            elif isinstance(location, str) and "://" in location:
                folder = ObjectStoragePath(location, conn_id=conn_id or None)
            elif isinstance(location, (str, os.PathLike)) and str(location):
                folder = Path(location).expanduser()
            else:
                raise AtlasDestinationUnusableError(
                    f"destination={location!r} is not a folder path or an object storage URI."
                )
        except ValueError as error:  # an unknown scheme, or a URI ObjectStoragePath cannot read
            raise AtlasDestinationUnusableError(
                f"destination={str(location)[:200]!r} cannot be used: {error}. Use a local folder, "
                "file://, s3:// (apache-airflow-providers-amazon[s3fs]) or gs:// "
                "(apache-airflow-providers-google)."
            ) from None
        self.folder = folder
        #: ``file://`` URIs are local folders: they get the local temp-file, fsync and rename.
        self._local_uri = isinstance(folder, ObjectStoragePath) and folder.protocol in _LOCAL_PROTOCOLS
        if isinstance(folder, ObjectStoragePath) and not self._local_uri:
            self.store = self._object_store(folder)

    @staticmethod
    def _object_store(folder: ObjectStoragePath) -> ObjectStore:
        try:
            return ObjectStore(folder.fs, folder.protocol)
        except (ImportError, ValueError) as error:  # s3fs missing, no file system for the scheme
            raise AtlasDestinationUnusableError(
                f"Object storage {folder.protocol}:// cannot be used: {error}."
            ) from None

    def __str__(self) -> str:
        return self.uri_of(None)

    @property
    def is_local(self) -> bool:
        """Return whether files go to the local file system (a path or ``file://``)."""
        return self.store is None

    @property
    def local_folder(self) -> Path:
        """Return the local folder (only when :attr:`is_local`)."""
        folder = self.folder
        return Path(folder.path) if isinstance(folder, ObjectStoragePath) else folder

    def uri_of(self, name: str | None) -> str:
        """
        Return the full location of the file ``name`` (or of the folder): a path, or ``scheme://bucket/key``.

        :param name: a file name, or ``None`` for the folder.
        """
        folder = self.folder
        if not isinstance(folder, ObjectStoragePath):
            return str(folder / name) if name else str(folder)
        path = folder.path.rstrip("/")
        return f"{folder.protocol}://{path}/{name}" if name else f"{folder.protocol}://{path}/"

    def _object_path(self, name: str) -> str:
        assert isinstance(self.folder, ObjectStoragePath)
        return f"{self.folder.path.rstrip('/')}/{name}"

    @property
    def bucket(self) -> str:
        """Return the bucket (the first segment of the object storage path), for messages."""
        folder = self.folder
        if isinstance(folder, ObjectStoragePath) and self.store is not None:
            return str(folder.path).strip("/").partition("/")[0]
        return str(folder)

    def prepare(self) -> None:
        """Prove the destination usable before any link is spent; raise with what to check if it is not."""
        if self.store is None:
            self._prepare_local()
        else:
            self._prepare_object_storage()

    def _prepare_local(self) -> None:
        """Create the folder if needed and write and remove a probe file in it."""
        folder = self.local_folder
        probe = folder / f"{WRITE_CHECK_NAME}-{uuid.uuid4().hex}"
        try:
            if folder.exists() and not folder.is_dir():
                raise AtlasDestinationUnusableError(
                    f"Download destination {folder} exists and is not a folder."
                )
            folder.mkdir(parents=True, exist_ok=True)
            with probe.open("wb") as handle:
                handle.write(b"")
            probe.unlink()
        except AtlasDestinationError:
            raise
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise AtlasDestinationUnusableError(
                f"Download destination {folder} cannot be created or written: {reason}. "
                "Choose a folder this worker can write to."
            ) from None

    def _prepare_object_storage(self) -> None:
        """
        Start an upload under the write-check key and abort it: proves the bucket and the right to write.

        No object is ever made (object stores have no folders, and a bucket is never created).
        """
        store = self.store
        assert store is not None
        path = self._object_path(WRITE_CHECK_NAME)
        with contextlib.suppress(Exception):  # left by a check that was killed; optional
            store.abort_unfinished_uploads(path)
        try:
            handle = store.fs.open(path, "wb", autocommit=False, block_size=self.part_size)
            try:
                handle.write(b"\0")
                handle.close()  # starts the upload (S3: a multipart upload; GCS: a resumable session)
            finally:
                abandon(handle)
        except Exception as error:
            raise AtlasDestinationUnusableError(
                f"Download destination {self.uri_of(None)} cannot be written: "
                f"{describe_storage_error(error, self.bucket)}. Nothing was downloaded."
            ) from None

    def stored(self, name: str) -> StoredFile | None:
        """
        Describe the file ``name`` if it is already at its final name, with its recorded metadata.

        :param name: the final file name.
        """
        if self.store is None:
            path = self.local_folder / name
            if not path.is_file():
                return None
            return StoredFile(self.uri_of(name), path.stat().st_size, read_file_metadata(path))
        try:
            return self.store.stored(self._object_path(name), self.uri_of(name))
        except Exception as error:
            raise AtlasDestinationUnusableError(
                f"Cannot read {self.uri_of(name)}: {describe_storage_error(error, self.bucket)}."
            ) from None

    def abort_unfinished_uploads(self, name: str) -> list[str]:
        """
        Abort the uploads of ``name`` that an earlier attempt left unfinished; return when each had started.

        :param name: the final file name.
        """
        if self.store is None:
            return []
        try:
            return self.store.abort_unfinished_uploads(self._object_path(name))
        except PermissionError as error:  # the download can go on; say what it could not do
            log.warning(
                "Cannot look for unfinished uploads of %s that an earlier attempt may have left (%s): "
                "allow the connection s3:ListBucketMultipartUploads and s3:AbortMultipartUpload",
                self.uri_of(name),
                error,
            )
            return []
        except Exception as error:
            raise AtlasDestinationError(
                f"Cannot list or abort the unfinished uploads of {self.uri_of(name)}: "
                f"{describe_storage_error(error, self.bucket)}. Allow s3:ListBucketMultipartUploads "
                "and s3:AbortMultipartUpload."
            ) from None

    def path(self, name: str) -> Path | ObjectStoragePath:
        """
        Return the path of a file named ``name`` in the folder.

        :param name: a plain file name (no folder part).
        """
        return self.folder / name

    def open_part(self, name: str, metadata: Mapping[str, str] | None = None) -> FileWriter:
        """
        Start writing the file ``name``; it appears at its final name only when committed.

        :param name: the final file name: one plain path segment (see :func:`is_safe_file_name`).
        :param metadata: text metadata recorded with it (job, snapshot, cluster, replica set).
        """
        if not is_safe_file_name(name):  # the last guard: callers check names with a clearer error
            raise AtlasDestinationError(
                f"Refusing to write a file named {name[:80]!r} in {self}: a file name must be one "
                "plain path segment of ASCII letters, digits, '.', '_' and '-', not starting with a dot."
            )
        if self.store is None:
            folder = self.local_folder
            temp = folder / f".{name}.{uuid.uuid4().hex[:12]}.part"
            return PartFile(folder / name, temp, metadata, uri=self.uri_of(name))
        store = self.store
        return ObjectUpload(
            store.fs, self._object_path(name), self.uri_of(name), store, metadata or {}, self.part_size
        )
