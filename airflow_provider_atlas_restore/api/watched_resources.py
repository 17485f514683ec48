"""
What a wait looks at: one Atlas resource that moves through states, its read and the judge of an answer.

The sync hook (:meth:`~airflow_provider_atlas_restore.hooks.resource_waits.ResourceWaitOperations.wait_for_resource`)
and every trigger (:class:`~airflow_provider_atlas_restore.triggers.polling.AtlasPollingTrigger`)
wait for the same :class:`WatchedResource`, so poke and deferrable modes read the same request
and decide by the same rules (in :mod:`~airflow_provider_atlas_restore.models`). Each kind is a
small frozen dataclass of ids, checked when built, and named by :data:`WATCHED_KINDS` so a
trigger can serialize it as plain JSON. Each ``evaluate`` imports its judge when first called,
so a DAG file that builds a wait (parse time) does not load every model module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_atlas_restore.api.validation import (
    validate_choice,
    validate_cluster_name,
    validate_flag,
    validate_object_id,
)
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasRequests
    from airflow_provider_atlas_restore.models.wait import WaitOutcome

_CLUSTER_KINDS = tuple(kind.value for kind in ClusterKind)


class WatchedResource(Protocol):
    """One Atlas resource a wait looks at: how to read it and how to judge what was read."""

    @property
    def label(self) -> str:
        """Return what names the resource in messages, such as ``Restore job 6a79... of cluster c1``."""

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the resource.

        :param api: the request builder of the connection's API version.
        """

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return whether waiting is over for this answer, and how.

        :param answer: the resource as Atlas returned it.
        :param now: the current time (aware, UTC).
        """


def _check_ids(group_id: str, cluster_name: str, resource_id: str, name: str) -> None:
    validate_object_id(group_id, "group_id")
    validate_cluster_name(cluster_name)
    validate_object_id(resource_id, name)


@dataclass(frozen=True)
class WatchedRestoreJob:
    """
    A restore job, read from the cluster's API family and judged by the sensor's rules.

    :param group_id: the project id.
    :param cluster_name: the cluster name.
    :param restore_job_id: the job.
    :param cluster_kind: ``dedicated`` or ``flex``, as the task found it.
    """

    group_id: str
    cluster_name: str
    restore_job_id: str
    cluster_kind: str = ClusterKind.DEDICATED.value

    def __post_init__(self) -> None:
        _check_ids(self.group_id, self.cluster_name, self.restore_job_id, "restore_job_id")
        validate_choice(self.cluster_kind, "cluster_kind", _CLUSTER_KINDS)

    @property
    def label(self) -> str:
        """Return the job and cluster, for messages."""
        return f"Restore job {self.restore_job_id} of cluster {self.cluster_name}"

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the job from the dedicated or the flex API.

        :param api: the request builder.
        """
        if self.cluster_kind == ClusterKind.FLEX.value:
            return api.get_flex_restore_job_request(self.group_id, self.cluster_name, self.restore_job_id)
        return api.get_restore_job_request(self.group_id, self.cluster_name, self.restore_job_id)

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return the verdict of :func:`~airflow_provider_atlas_restore.models.evaluate_restore_job`.

        :param answer: the job as Atlas returned it.
        :param now: the current time (aware, UTC).
        """
        from airflow_provider_atlas_restore.models.wait import evaluate_restore_job

        return evaluate_restore_job(
            answer, cluster_name=self.cluster_name, now=now, restore_job_id=self.restore_job_id
        )


@dataclass(frozen=True)
class WatchedSnapshot:
    """
    A dedicated cluster's snapshot being taken: done at ``completed``, failed at ``failed``.

    :param group_id: the project id.
    :param cluster_name: the cluster name.
    :param snapshot_id: the snapshot.
    :param sharded: a sharded cluster's snapshot (``.../snapshots/shardedCluster/{id}``).
    """

    group_id: str
    cluster_name: str
    snapshot_id: str
    sharded: bool = False

    def __post_init__(self) -> None:
        _check_ids(self.group_id, self.cluster_name, self.snapshot_id, "snapshot_id")
        validate_flag(self.sharded, "sharded")

    @property
    def label(self) -> str:
        """Return the snapshot and cluster, for messages."""
        return f"Snapshot {self.snapshot_id} of cluster {self.cluster_name}"

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the snapshot.

        :param api: the request builder.
        """
        return api.get_snapshot_request(
            self.group_id, self.cluster_name, self.snapshot_id, sharded=self.sharded
        )

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return the verdict of :func:`~airflow_provider_atlas_restore.models.snapshot.evaluate_snapshot`.

        :param answer: the snapshot as Atlas returned it.
        :param now: the current time (unused: a snapshot has no deadline of its own).
        """
        from airflow_provider_atlas_restore.models.snapshot import evaluate_snapshot

        return evaluate_snapshot(answer, cluster_name=self.cluster_name, snapshot_id=self.snapshot_id)


@dataclass(frozen=True)
class WatchedExportJob:
    """
    A snapshot export job: done at ``Successful``, failed at ``Failed`` or ``Cancelled``.

    :param group_id: the project id.
    :param cluster_name: the cluster whose snapshot is exported.
    :param export_id: the export job.
    """

    group_id: str
    cluster_name: str
    export_id: str

    def __post_init__(self) -> None:
        _check_ids(self.group_id, self.cluster_name, self.export_id, "export_id")

    @property
    def label(self) -> str:
        """Return the export job and cluster, for messages."""
        return f"Export job {self.export_id} of cluster {self.cluster_name}"

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the export job.

        :param api: the request builder.
        """
        return api.get_export_job_request(self.group_id, self.cluster_name, self.export_id)

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return the verdict of :func:`~airflow_provider_atlas_restore.models.export_job.evaluate_export_job`.

        :param answer: the export job as Atlas returned it.
        :param now: the current time (unused).
        """
        from airflow_provider_atlas_restore.models.export_job import evaluate_export_job

        return evaluate_export_job(answer, cluster_name=self.cluster_name, export_id=self.export_id)


@dataclass(frozen=True)
class WatchedCollectionRestoreJob:
    """
    A collection-level restore job: done at ``SUCCESSFUL``; its message gives the document progress.

    The per-collection states of a failed job are read by the task when it resumes, not here.

    :param group_id: the project id.
    :param cluster_name: the source cluster.
    :param job_id: the collection restore job.
    """

    group_id: str
    cluster_name: str
    job_id: str

    def __post_init__(self) -> None:
        _check_ids(self.group_id, self.cluster_name, self.job_id, "job_id")

    @property
    def label(self) -> str:
        """Return the job and cluster, for messages."""
        return f"Collection restore job {self.job_id} of cluster {self.cluster_name}"

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the job.

        :param api: the request builder.
        """
        return api.get_collection_restore_job_request(self.group_id, self.cluster_name, self.job_id)

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return the verdict of :func:`~airflow_provider_atlas_restore.models.collection_restore_job.evaluate_collection_restore_job`.

        :param answer: the job as Atlas returned it.
        :param now: the current time (unused).
        """
        from airflow_provider_atlas_restore.models.collection_restore_job import (
            evaluate_collection_restore_job,
        )

        return evaluate_collection_restore_job(answer, cluster_name=self.cluster_name, job_id=self.job_id)


#: Each watched kind by the name a serialized trigger gives it.
WATCHED_KINDS: dict[str, type[Any]] = {
    "restore_job": WatchedRestoreJob,
    "snapshot": WatchedSnapshot,
    "export_job": WatchedExportJob,
    "collection_restore_job": WatchedCollectionRestoreJob,
}


def watched_kind_name(resource: object) -> str:
    """
    Return the name :data:`WATCHED_KINDS` gives the kind of ``resource``.

    :param resource: a watched resource of one of the kinds above.
    """
    for name, kind in WATCHED_KINDS.items():
        if type(resource) is kind:
            return name
    raise TypeError(f"{type(resource).__name__} is not a watched resource kind: {sorted(WATCHED_KINDS)}")


def watched_resource_to_json(resource: object) -> dict[str, Any]:
    """
    Return ``resource`` as ``{"kind": ..., "fields": {...}}``: ids and flags only, never a secret.

    :param resource: a watched resource of one of the kinds above.
    """
    return {"kind": watched_kind_name(resource), "fields": asdict(resource)}  # type: ignore[call-overload]


def watched_resource_from_json(data: Mapping[str, Any]) -> WatchedResource:
    """
    Rebuild a watched resource from :func:`watched_resource_to_json`; its ids are checked again.

    :param data: ``{"kind": ..., "fields": {...}}``.
    """
    kind = validate_choice(data.get("kind"), "resource kind", tuple(WATCHED_KINDS))
    fields = data.get("fields")
    if not isinstance(fields, Mapping):
        raise TypeError(f"The watched {kind}'s fields must be a mapping, not {type(fields).__name__}.")
    resource: WatchedResource = WATCHED_KINDS[kind](**fields)
    return resource
