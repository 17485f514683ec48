"""What an object store offers beyond plain files, through its fsspec file system: S3, GCS or another."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SHA256_KEY", "ObjectStore", "StoredFile", "describe_storage_error"]

log = logging.getLogger(__name__)

#: The metadata key (an S3 object tag, GCS custom metadata, a local extended attribute) of the sha256.
SHA256_KEY = "sha256"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Pages of unfinished multipart uploads read at most when looking for those of one key.
_MAX_UPLOAD_PAGES = 100


@dataclass(frozen=True)
class StoredFile:
    """
    A file or object already at a final name, as the destination describes it.

    :param uri: where it is.
    :param bytes: its length.
    :param metadata: the metadata recorded with it (empty when the store keeps none).
    """

    uri: str
    bytes: int
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        """Return the verified sha256 recorded with it, or ``None`` when there is none."""
        value = self.metadata.get(SHA256_KEY, "")
        return value if _SHA256.fullmatch(value) else None


def describe_storage_error(error: BaseException, bucket: str) -> str:
    """
    Say what a storage error means for the user, naming the bucket and what to check.

    :param error: the error raised by the file system (s3fs and gcsfs raise ``OSError`` kinds).
    :param bucket: the bucket (or top folder) concerned.
    """
    text = str(error)[:200] or type(error).__name__
    status = getattr(error, "code", None)
    if isinstance(error, FileNotFoundError) or status == 404:
        return (
            f"bucket {bucket!r} does not exist or cannot be found with this connection ({text}). Check "
            "the bucket name, the connection's region and endpoint_url"
        )
    if isinstance(error, PermissionError) or status in (401, 403):
        return (
            f"the connection may not write to bucket {bucket!r} ({text}). Check the credentials of "
            "destination_conn_id and that they allow writing objects (s3:PutObject, "
            "s3:AbortMultipartUpload; storage.objects.create on GCS)"
        )
    return f"{text} (bucket {bucket!r})"


class ObjectStore:
    """
    The store-specific parts of writing snapshot files to one fsspec file system.

    S3 (s3fs) keeps user metadata set when a multipart upload starts, takes the sha256 as an
    object tag once the object is complete, and lists unfinished multipart uploads by key.
    GCS (gcsfs) keeps custom metadata given at the start and takes more at the end. Other file
    systems are written without metadata.

    :param fs: the fsspec file system of the destination.
    :param protocol: the scheme the destination was given with (``s3``, ``gs``...).
    """

    def __init__(self, fs: Any, protocol: str) -> None:
        self.fs = fs
        self.protocol = protocol
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if "s3" in protocols and hasattr(fs, "call_s3"):
            self.kind = "s3"
        elif "gs" in protocols or "gcs" in protocols:
            self.kind = "gcs"
        else:
            self.kind = "other"

    def open_arguments(self, metadata: Mapping[str, str]) -> dict[str, Any]:
        """
        Return the keyword arguments of ``fs.open`` that set ``metadata`` when the upload starts.

        :param metadata: text metadata (job, snapshot, cluster, replica set).
        """
        if self.kind == "s3":
            return {"Metadata": dict(metadata)}
        if self.kind == "gcs":
            return {"metadata": dict(metadata)}
        return {}

    def record_sha256(self, path: str, sha256: str) -> bool:
        """
        Record the sha256 of a completed object; return whether the store kept it.

        :param path: the object's path in the file system (``bucket/key``).
        :param sha256: the verified hex sha256.
        """
        if self.kind == "s3":
            # S3 fixes user metadata when the upload starts; a tag can be added to the object after.
            self.fs.put_tags(path, {SHA256_KEY: sha256})
            return True
        if self.kind == "gcs":
            self.fs.setxattrs(path, **{SHA256_KEY: sha256})
            return True
        return False

    def stored(self, path: str, uri: str) -> StoredFile | None:
        """
        Describe the object at ``path`` with its metadata, or return ``None`` when there is none.

        :param path: the object's path in the file system.
        :param uri: its URI, for the description.
        """
        self.fs.invalidate_cache(path)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return None
        metadata: dict[str, str] = {}
        if self.kind == "s3":
            metadata.update({str(k): str(v) for k, v in (self.fs.metadata(path) or {}).items()})
            metadata.update({str(k): str(v) for k, v in (self.fs.get_tags(path) or {}).items()})
        elif self.kind == "gcs":
            metadata.update({str(k): str(v) for k, v in (info.get("metadata") or {}).items()})
        return StoredFile(uri=uri, bytes=int(info.get("size") or 0), metadata=metadata)

    def unfinished_uploads(self, path: str) -> list[dict[str, Any]]:
        """
        List the unfinished multipart uploads of exactly this key (S3 only; empty elsewhere).

        :param path: the object's path in the file system (``bucket/key``).
        """
        if self.kind != "s3":
            # GCS resumable uploads are neither listed nor billed, and expire after a week.
            return []
        bucket, _, key = path.partition("/")
        found: list[dict[str, Any]] = []
        markers: dict[str, str] = {}
        for _ in range(_MAX_UPLOAD_PAGES):
            page = self.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=key, **markers)
            # The prefix also matches longer keys: keep this key's uploads only.
            found.extend(upload for upload in page.get("Uploads") or [] if upload.get("Key") == key)
            if not page.get("IsTruncated"):
                break
            markers = {
                "KeyMarker": page.get("NextKeyMarker", ""),
                "UploadIdMarker": page.get("NextUploadIdMarker", ""),
            }
        return found

    def abort_unfinished_uploads(self, path: str) -> list[str]:
        """
        Abort the unfinished multipart uploads of exactly this key; return when each had started.

        :param path: the object's path in the file system (``bucket/key``).
        """
        bucket, _, key = path.partition("/")
        started = []
        for upload in self.unfinished_uploads(path):
            self.fs.abort_mpu(bucket, key, upload["UploadId"])
            started.append(str(upload.get("Initiated", "an unknown time")))
        return started
