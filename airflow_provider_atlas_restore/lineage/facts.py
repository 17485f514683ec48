"""What a finished run tells lineage: the Atlas cluster and snapshot it read, the job, the files it wrote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "ATLAS_SCHEME",
    "AtlasSource",
    "LandedFile",
    "cluster_namespace",
    "cluster_uri",
    "file_uri",
    "storage_dataset",
]

#: The URI scheme of an Atlas cluster: ``mongodb+atlas://<project id>/<cluster name>``.
ATLAS_SCHEME = "mongodb+atlas"
#: What a job's id is called in an event's extra, by the kind of job.
JOB_KINDS = ("restore_job", "export_job", "collection_restore_job")
_LOCAL_SCHEMES = ("file", "local")


def cluster_namespace(group_id: str | None) -> str:
    """
    Return the OpenLineage namespace of a project's clusters: ``mongodb+atlas://<project id>``.

    :param group_id: the project id (``unknown`` when not known).
    """
    return f"{ATLAS_SCHEME}://{group_id or 'unknown'}"


def cluster_uri(group_id: str | None, cluster_name: str | None) -> str:
    """
    Return a cluster's URI, ``mongodb+atlas://<project id>/<cluster name>``.

    :param group_id: the project id.
    :param cluster_name: the cluster's name.
    """
    return f"{cluster_namespace(group_id)}/{cluster_name or 'unknown'}"


def file_uri(path: str) -> str:
    """
    Return ``path`` as a URI: object storage URIs as they are, a local path as ``file:///…``.

    :param path: a download result's ``path`` (a local path or ``scheme://bucket/key``).
    """
    if "://" in path:
        return path
    return Path(path).absolute().as_uri()


def storage_dataset(uri: str) -> tuple[str, str]:
    """
    Return the OpenLineage ``(namespace, name)`` of a stored file, as the OpenLineage naming spec has it.

    ``s3://bucket/key`` is ``("s3://bucket", "key")`` (``gs://`` alike); a local file is
    ``("file", "/its/absolute/path")``.

    :param uri: the file's URI (see :func:`file_uri`).
    """
    scheme, _, rest = file_uri(uri).partition("://")
    if scheme in _LOCAL_SCHEMES:
        return "file", "/" + rest.lstrip("/")
    bucket, _, key = rest.partition("/")
    return f"{scheme}://{bucket}", key or "/"


@dataclass(frozen=True)
class LandedFile:
    """
    A file or object a run wrote (or kept), at its final name.

    :param uri: where it is, as a URI (``file:///…``, ``s3://bucket/key``).
    :param bytes: its length.
    :param sha256: the hex sha256 of its content.
    :param replica_set: the replica set it holds on a sharded cluster, else ``None``.
    :param kept: it was already there and was kept (``if_exists="skip_if_same"``).
    """

    uri: str
    bytes: int
    sha256: str
    replica_set: str | None = None
    kept: bool = False

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> LandedFile:
        """
        Read one entry of a download (or export) operator's XCom value.

        :param result: a dict with ``path``, ``bytes``, ``sha256`` and optionally ``replica_set``, ``kept``.
        """
        return cls(
            uri=file_uri(str(result["path"])),
            bytes=int(result["bytes"]),
            sha256=str(result["sha256"]),
            replica_set=result.get("replica_set"),
            kept=bool(result.get("kept", False)),
        )

    def to_extra(self) -> dict[str, Any]:
        """Return the JSON-ready form listed in an asset event's extra."""
        return {
            "uri": self.uri,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "replica_set": self.replica_set,
            "kept": self.kept,
        }


@dataclass(frozen=True)
class AtlasSource:
    """
    The Atlas side of a run: the cluster and snapshot read, the job, and a restore's target cluster.

    :param group_id: the project id of the source cluster.
    :param cluster_name: the source cluster.
    :param snapshot_id: the snapshot read, when known.
    :param snapshot_time: when Atlas took the snapshot, when known.
    :param job_id: the Atlas job's id (restore, export or collection restore job), when known.
    :param job_kind: ``"restore_job"``, ``"export_job"`` or ``"collection_restore_job"``: what
        ``job_id`` is (the extra names it ``<job_kind>_id``).
    :param delivery_type: a restore job's ``deliveryType`` (``download``, ``automated``,
        ``pointInTime``), when known.
    :param target_group_id: a restore's target project (defaults to ``group_id``).
    :param target_cluster_name: a restore's target cluster, else ``None``.
    :param target_collections: a collection restore's target ``database.collection`` names.
    """

    group_id: str | None
    cluster_name: str | None
    snapshot_id: str | None = None
    snapshot_time: datetime | None = None
    job_id: str | None = None
    job_kind: str = "restore_job"
    delivery_type: str | None = None
    target_group_id: str | None = None
    target_cluster_name: str | None = None
    target_collections: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.job_kind not in JOB_KINDS:
            raise ValueError(f"job_kind={self.job_kind!r} is not one of {', '.join(JOB_KINDS)}.")

    @property
    def cluster_uri(self) -> str:
        """Return the source cluster's URI (``mongodb+atlas://<project id>/<cluster>``)."""
        return cluster_uri(self.group_id, self.cluster_name)

    @property
    def target_cluster_uri(self) -> str | None:
        """Return the target cluster's URI, or ``None`` when the run restores into no cluster."""
        if not self.target_cluster_name:
            return None
        return cluster_uri(self.target_group_id or self.group_id, self.target_cluster_name)

    def to_extra(self) -> dict[str, Any]:
        """Return the Atlas part of an asset event's extra (ids and time; never a link)."""
        extra: dict[str, Any] = {
            "cluster": self.cluster_name,
            "cluster_uri": self.cluster_uri,
            "group_id": self.group_id,
            "snapshot_id": self.snapshot_id,
            "snapshot_time": self.snapshot_time.isoformat() if self.snapshot_time else None,
            f"{self.job_kind}_id": self.job_id,
        }
        if self.target_cluster_name:
            extra["target_cluster_uri"] = self.target_cluster_uri
        if self.target_collections:
            extra["target_collections"] = list(self.target_collections)
        return extra
