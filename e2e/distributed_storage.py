"""The S3 destination: moto's server and bucket, the upload in flight, and what the bucket holds at the end."""

from __future__ import annotations

import gzip
import hashlib
import secrets
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from example_dag import REPO
from failure import E2EFailure

if str(REPO) not in sys.path:  # tests/ is a package of the repository, beside e2e/
    sys.path.append(str(REPO))

from tests.storage_servers import (
    MotoS3Server,
    S3Credentials,
    object_keys,
    unfinished_uploads,
)

BUCKET = "atlas-distributed"
PREFIX = "restores/"
#: The metadata the download operator sets on each object when its upload starts.
METADATA_KEYS = ("atlas-restore-job-id", "atlas-snapshot-id", "atlas-cluster")


@dataclass
class S3:
    """Moto's S3 server with the run's bucket, and a boto3 client of it."""

    server: MotoS3Server
    credentials: S3Credentials
    client: Any

    @property
    def destination(self) -> str:
        """The ``destination`` param of the DAG run."""
        return f"s3://{BUCKET}/{PREFIX}"


def start_s3(log_folder: Path) -> S3:
    """Start moto's server (its log in ``log_folder``) and create the bucket; random credentials.

    :param log_folder: where moto.log goes.
    """
    credentials = S3Credentials("atlas-distributed-key", f"atlas-distributed-secret-{secrets.token_hex(12)}")
    server = MotoS3Server(log_folder).start()
    try:
        client = server.client(credentials)
        client.create_bucket(Bucket=BUCKET)
    except BaseException:
        server.stop(remove_logs=False)
        raise
    return S3(server, credentials, client)


@dataclass(frozen=True)
class UploadInFlight:
    """A multipart upload neither completed nor aborted, with the parts it has received so far."""

    key: str
    upload_id: str
    parts: int
    part_bytes: int


def upload_in_flight(s3: S3) -> UploadInFlight | None:
    """The first unfinished multipart upload of a snapshot file that has parts, if there is one.

    The operator's write check (a tiny upload to ``.atlas-write-check``, aborted at once) does not count.

    :param s3: the destination.
    """
    from botocore.exceptions import ClientError

    for upload in unfinished_uploads(s3.client, BUCKET, PREFIX):
        if upload["Key"].rpartition("/")[2].startswith("."):
            continue
        try:
            listed = s3.client.list_parts(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
        except ClientError as error:  # e.g. the operator's write check, aborted meanwhile
            if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                continue
            raise
        parts = listed.get("Parts") or []
        if parts:
            size = sum(int(part["Size"]) for part in parts)
            return UploadInFlight(upload["Key"], upload["UploadId"], len(parts), size)
    return None


class _HashingReader:
    """A read-only stream that hashes (sha256) and counts every byte read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        self.bytes += len(data)
        return data


def read_object(s3: S3, key: str) -> tuple[str, int, int]:
    """Read the object through gzip and tar to its end: ``(sha256, bytes, tar members)``.

    gzip checks its CRC-32 and length at the end, so this also proves the archive is whole.

    :param s3: the destination.
    :param key: the object's key.
    """
    body = s3.client.get_object(Bucket=BUCKET, Key=key)["Body"]
    reader = _HashingReader(body)
    try:
        with gzip.GzipFile(fileobj=reader, mode="rb") as unzipped:  # type: ignore[arg-type]
            with tarfile.open(fileobj=unzipped, mode="r|") as archive:
                members = 0
                for member in archive:
                    members += 1
                    stream = archive.extractfile(member)
                    while stream is not None and stream.read(1 << 20):
                        pass
            while unzipped.read(1 << 20):  # the tar padding, then gzip's CRC and length check
                pass
    except (OSError, EOFError, tarfile.TarError) as error:
        raise E2EFailure(f"s3://{BUCKET}/{key} is not a whole .tar.gz: {error}") from error
    while reader.read(1 << 20):
        pass
    return reader.sha256.hexdigest(), reader.bytes, members


def check_bucket(s3: S3, files: list[dict[str, Any]], wanted: dict[str, str]) -> list[str]:
    """The bucket holds exactly the downloaded files, whole, with their sha256 tag and metadata.

    :param s3: the destination.
    :param files: the download task's XCom (path, bytes, sha256 of each file).
    :param wanted: the metadata each object must have (job, snapshot, cluster).
    """
    expected = {}
    for entry in files:
        uri = str(entry["path"])
        if not uri.startswith(s3.destination):
            raise E2EFailure(f"the download XCom names {uri}, not an object under {s3.destination}")
        expected[uri.removeprefix(f"s3://{BUCKET}/")] = entry
    keys = object_keys(s3.client, BUCKET)
    if sorted(keys) != sorted(expected):
        raise E2EFailure(f"bucket {BUCKET} holds {sorted(keys)}; the download XCom names {sorted(expected)}")
    leftovers = unfinished_uploads(s3.client, BUCKET)
    if leftovers:
        described = [(upload["Key"], upload["UploadId"]) for upload in leftovers]
        raise E2EFailure(f"bucket {BUCKET} still has unfinished multipart uploads: {described}")
    lines = []
    for key, entry in sorted(expected.items()):
        head = s3.client.head_object(Bucket=BUCKET, Key=key)
        tags = s3.client.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
        tag = {item["Key"]: item["Value"] for item in tags}.get("sha256")
        digest, size, members = read_object(s3, key)
        if not digest == entry["sha256"] == tag or not size == entry["bytes"] == head["ContentLength"]:
            raise E2EFailure(
                f"s3://{BUCKET}/{key}: {size} bytes, sha256 {digest}, tag sha256 {tag}, "
                f"ContentLength {head['ContentLength']}; the XCom says {entry['bytes']} bytes, "
                f"sha256 {entry['sha256']}"
            )
        metadata = head.get("Metadata") or {}
        wrong = {name: metadata.get(name) for name in METADATA_KEYS if metadata.get(name) != wanted[name]}
        if wrong:
            raise E2EFailure(f"s3://{BUCKET}/{key}: metadata {metadata}, expected {wanted} (wrong: {wrong})")
        lines.append(
            f"s3://{BUCKET}/{key}: {size:,} bytes read back through gzip and tar ({members} members), "
            f"sha256 {digest[:16]}... == XCom == tag; metadata job {wanted['atlas-restore-job-id']}, "
            f"snapshot {wanted['atlas-snapshot-id']}, cluster {wanted['atlas-cluster']}"
        )
    lines.append(f"bucket {BUCKET}: {len(keys)} object(s), no other object, no unfinished multipart upload")
    return lines
