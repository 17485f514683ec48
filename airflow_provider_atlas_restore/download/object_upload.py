"""A snapshot file written to object storage as one upload to its final key, completed only when verified."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from airflow_provider_atlas_restore.defaults import MAX_UPLOAD_PARTS, MIN_UPLOAD_PART_SIZE
from airflow_provider_atlas_restore.download.object_store import ObjectStore, describe_storage_error
from airflow_provider_atlas_restore.exceptions import AtlasDestinationError

__all__ = ["HandOff", "ObjectUpload", "abandon", "part_size_for"]

log = logging.getLogger(__name__)
_MIB = 1 << 20


def part_size_for(total: int | None, part_size: int) -> int:
    """
    Return the part size for a file of ``total`` bytes: ``part_size``, or more to stay within S3's part count.

    :param total: the file's length, when known.
    :param part_size: the part size asked for.
    """
    if not total or total <= part_size * MAX_UPLOAD_PARTS:
        return part_size
    return max(MIN_UPLOAD_PART_SIZE, math.ceil(total / MAX_UPLOAD_PARTS / _MIB) * _MIB)


def abandon(handle: Any) -> None:
    """
    Abort an uncommitted fsspec file's upload and mark it closed, so that its finalizer sends nothing; never raises.

    :param handle: a file opened with ``autocommit=False``.
    """
    with contextlib.suppress(Exception):
        handle.discard()
    with contextlib.suppress(Exception):
        handle.closed = True


class HandOff:
    """
    Chunks passed from the download to the upload thread, holding at most ``limit`` bytes.

    While the upload thread sends one part, the download goes on filling the next one up to
    the limit, then waits: memory stays bounded and neither side idles while the other works.

    :param limit: the most bytes waiting at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: deque[bytes | None] = deque()
        self._bytes = 0
        self._cancelled = False
        self._ready = threading.Condition()

    def put(self, chunk: bytes | None) -> bool:
        """
        Add a chunk (``None`` ends the stream); wait while the limit is reached. Return ``False`` if cancelled.

        :param chunk: the next bytes, or ``None`` after the last.
        """
        size = len(chunk) if chunk is not None else 0
        with self._ready:
            # A chunk bigger than the limit goes through alone rather than waiting forever.
            self._ready.wait_for(
                lambda: self._cancelled or not self._bytes or self._bytes + size <= self.limit
            )
            if self._cancelled:
                return False
            self._chunks.append(chunk)
            self._bytes += size
            self._ready.notify_all()
            return True

    def get(self) -> bytes | None:
        """Return the next chunk, waiting for one; ``None`` at the end of the stream or once cancelled."""
        with self._ready:
            self._ready.wait_for(lambda: self._cancelled or bool(self._chunks))
            if self._cancelled:
                return None
            chunk = self._chunks.popleft()
            self._bytes -= len(chunk) if chunk is not None else 0
            self._ready.notify_all()
            return chunk

    def cancel(self) -> None:
        """Drop what waits and wake both sides: the stream is abandoned."""
        with self._ready:
            self._cancelled = True
            self._chunks.clear()
            self._bytes = 0
            self._ready.notify_all()


class ObjectUpload:
    """
    One object being written as a single non-autocommit upload straight to its final key.

    The file system's own uncommitted file does the work (``fs.open(..., autocommit=False)``:
    a multipart upload on S3, a resumable upload on GCS): nothing is visible under any key
    until :meth:`commit` completes it, and :meth:`discard` aborts it. Parts are sent by a
    thread of this object while the download goes on; at most one part waits in between.

    :param fs: the destination's fsspec file system.
    :param path: the object's path in ``fs`` (``bucket/key``).
    :param uri: the object's URI (``s3://bucket/key``), as reported.
    :param store: what the store offers beyond plain files (metadata, tags).
    :param metadata: metadata set when the upload starts (job, snapshot, cluster, replica set).
    :param part_size: bytes per part (grows for files too big for S3's 10,000 parts).
    """

    def __init__(
        self,
        fs: Any,
        path: str,
        uri: str,
        store: ObjectStore,
        metadata: Mapping[str, str],
        part_size: int,
    ) -> None:
        self.fs = fs
        self.path = path
        self.uri = uri
        self.store = store
        self.metadata = dict(metadata)
        self.part_size = part_size
        self._reset()

    def _reset(self) -> None:
        self._handle: Any = None
        self._error: BaseException | None = None
        self._hand_off = HandOff(self.part_size)
        self._thread: threading.Thread | None = None

    @property
    def temp(self) -> str:
        """Return what is being written meanwhile, for messages."""
        return f"the unfinished upload to {self.uri}"

    @property
    def uploaded(self) -> int:
        """Return the bytes sent to the store in finished parts (committed only by :meth:`commit`)."""
        handle = self._handle
        return int(getattr(handle, "offset", 0) or 0) if handle is not None else 0

    def announce_size(self, total: int | None) -> None:
        """
        Choose the part size for a file of ``total`` bytes, before the upload starts.

        :param total: the length the server announced, or ``None``.
        """
        if self._thread is not None:
            return
        size = part_size_for(total, self.part_size)
        if size != self.part_size:
            log.info(
                "%s has %d bytes: parts of %d MiB (not %d) keep it within %d parts",
                self.uri,
                total,
                size >> 20,
                self.part_size >> 20,
                MAX_UPLOAD_PARTS,
            )
            self.part_size = size
            self._hand_off = HandOff(size)

    def write(self, data: bytes | memoryview) -> None:
        """
        Pass ``data`` to the upload thread (a copy: the caller may reuse its buffer).

        :param data: the next bytes.
        """
        self._raise_failure()
        self._start()
        if not self._hand_off.put(bytes(data)):
            self._raise_failure()

    def _start(self) -> threading.Thread:
        """Start the upload thread, once per upload; return it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._upload, name=f"upload {self.uri}", daemon=True)
            self._thread.start()
        return self._thread

    def _upload(self) -> None:
        """Open the uncommitted file and write every chunk handed off, until the end or a failure."""
        try:
            self._handle = self.fs.open(
                self.path,
                "wb",
                autocommit=False,
                block_size=self.part_size,
                **self.store.open_arguments(self.metadata),
            )
            while (chunk := self._hand_off.get()) is not None:
                self._handle.write(chunk)
        except BaseException as error:
            self._error = error
            self._hand_off.cancel()

    def _raise_failure(self) -> None:
        error = self._error
        if error is not None:
            raise AtlasDestinationError(
                f"Cannot upload to {self.uri}: {describe_storage_error(error, self._bucket)}."
            ) from None

    @property
    def _bucket(self) -> str:
        return self.path.partition("/")[0]

    def _drain(self) -> None:
        """End the stream and wait until every part handed off was sent."""
        thread = self._start()  # an empty file still opens (and commits) its upload
        self._hand_off.put(None)
        thread.join()
        self._raise_failure()

    def commit(self, sha256: str) -> None:
        """
        Send the last part and complete the upload: the object appears whole; then record its sha256.

        :param sha256: the verified hex sha256, recorded as an object tag (S3) or metadata (GCS).
        """
        self._drain()
        try:
            self._handle.close()  # sends the last part; the upload stays uncommitted
            self._handle.commit()
        except Exception as error:
            raise AtlasDestinationError(
                f"Cannot complete the upload to {self.uri}: {describe_storage_error(error, self._bucket)}."
            ) from None
        self._handle = None
        try:
            kept = self.store.record_sha256(self.path, sha256)
        except Exception as error:  # the object is whole and verified: say so, do not fail
            log.warning(
                "%s is complete, but its sha256 could not be recorded with it (%s); it is in the "
                "task's result. Allow the connection to tag objects (s3:PutObjectTagging) or set "
                "metadata (storage.objects.update) to keep it with the object.",
                self.uri,
                describe_storage_error(error, self._bucket),
            )
            return
        if not kept:
            log.info("%s is complete; this store keeps no metadata, the sha256 is in the result", self.uri)

    def discard(self) -> None:
        """Abort the upload so that nothing appears under the key; never raises."""
        self._hand_off.cancel()
        if self._thread is not None:
            self._thread.join()
        handle, self._handle = self._handle, None
        if handle is not None:
            abandon(handle)

    def restart(self) -> None:
        """Abort the upload and start a new one, for a download that starts again from byte 0."""
        self.discard()
        self._reset()
