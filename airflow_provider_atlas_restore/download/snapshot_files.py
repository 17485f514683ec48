"""A snapshot file's description: its link, what it holds, what was written, and how it is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_atlas_restore.download.object_store import StoredFile

__all__ = ["DownloadLink", "DownloadResult", "FileWriter", "LinkSource", "SnapshotOrigin"]


@dataclass(frozen=True)
class SnapshotOrigin:
    """
    What a snapshot file holds, recorded with it as metadata so that it can be checked without the XCom.

    :param restore_job_id: the restore job it was downloaded from (a flex download's job, when
        Atlas named a valid one), else ``None``.
    :param snapshot_id: the snapshot it holds, when known.
    :param cluster_name: the cluster the snapshot is of, when known.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    """

    restore_job_id: str | None
    snapshot_id: str | None = None
    cluster_name: str | None = None
    replica_set: str | None = None

    def to_metadata(self) -> dict[str, str]:
        """Return the metadata keys and values (those known) set on the file or object."""
        values = {
            "atlas-restore-job-id": self.restore_job_id,
            "atlas-snapshot-id": self.snapshot_id,
            "atlas-cluster": self.cluster_name,
            "atlas-replica-set": self.replica_set,
        }
        return {key: value for key, value in values.items() if value}

    def matches(self, stored: StoredFile) -> bool:
        """
        Return whether ``stored`` was written whole from this snapshot (and replica set) by this provider.

        :param stored: a file already at the final name.
        """
        recorded = stored.metadata
        return (
            stored.sha256 is not None
            and self.snapshot_id is not None
            and recorded.get("atlas-snapshot-id") == self.snapshot_id
            and recorded.get("atlas-replica-set") == self.replica_set
        )


@dataclass(frozen=True)
class DownloadLink:
    """
    One snapshot file to fetch.

    :param url: the secret bearer link (never shown in ``repr``, logs or messages).
    :param file_name: the name the file gets in the destination folder.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    :param origin: what the file holds, recorded with it as metadata.
    """

    url: str = field(repr=False)
    file_name: str
    replica_set: str | None = None
    origin: SnapshotOrigin | None = None


@dataclass(frozen=True)
class DownloadResult:
    """
    A file written completely and checked (or found already there with ``if_exists="skip_if_same"``).

    :param path: where it is: a local path or a full object storage URI (``s3://bucket/key``).
    :param bytes: its length.
    :param sha256: the hex sha256 of its content.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    :param kept: it was already there, whole, from the same snapshot, and was not downloaded again.
    :param snapshot_id: the snapshot it holds, when known (always for a flex snapshot).
    """

    path: str
    bytes: int
    sha256: str
    replica_set: str | None = None
    kept: bool = False
    snapshot_id: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON-ready form returned to XCom (no link in it)."""
        return {
            "path": self.path,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "replica_set": self.replica_set,
            "kept": self.kept,
            "snapshot_id": self.snapshot_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return :meth:`to_xcom` (the former name, kept for existing callers)."""
        return self.to_xcom()


class FileWriter(Protocol):
    """A file being written at its destination: nothing is visible at its final name until :meth:`commit`."""

    @property
    def uri(self) -> str:
        """Return where the finished file is."""

    @property
    def temp(self) -> Any:
        """Return what is written meanwhile, for messages."""

    @property
    def uploaded(self) -> int | None:
        """Return the bytes already sent to object storage, or ``None`` for a local file."""

    def announce_size(self, total: int | None) -> None:
        """Take note of the whole length, once the server said it."""

    def write(self, data: bytes | memoryview) -> None:
        """Append the next bytes."""

    def restart(self) -> None:
        """Forget what was written, for a download that starts again from byte 0."""

    def commit(self, sha256: str) -> None:
        """Make the verified file appear whole at its final name."""

    def discard(self) -> None:
        """Remove every trace of the file; never raises."""


class LinkSource(Protocol):
    """Where a download's links come from (a restore job, a flex snapshot), and fresh ones when one is refused."""

    def links(self) -> list[DownloadLink]:
        """Return the files to download, each with its link; Atlas requests are made here."""

    def renew(self, link: DownloadLink) -> DownloadLink | None:
        """Return a fresh link for the file of ``link`` (refused by the download server), or ``None``."""
