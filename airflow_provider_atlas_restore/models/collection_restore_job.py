"""
A collection-level restore job and its collections: states, progress, the wait's verdict, XCom.

Job ``state``: ``INITIALIZING``, ``IN_PROGRESS``, ``FINALIZING``, then ``SUCCESSFUL``,
``CANCELED`` (one L) or ``FAILED``; ``restoredDocuments`` of ``totalDocuments`` tell the
progress (the total may start as an estimate). Each collection has its own state; the spec does
not say which are final: here ``SUCCESSFUL`` is a success and ``NOT_FOUND``, ``UNSUPPORTED``,
``NOT_RESTORED``, ``FAILED`` and ``INDEX_BUILD_FAILED`` are failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.resource_state import ResourceState
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp
from airflow_provider_atlas_restore.models.wait import WaitOutcome, WaitStatus
from airflow_provider_atlas_restore.models.xcom_fields import XcomFields, count_field, iso_or_none, text_field

#: How many failed collections a failure message names before it says "and N more".
NAMED_FAILURES = 5


class CollectionRestoreState(ResourceState):
    """A collection restore job's ``state``; terminal are ``SUCCESSFUL``, ``CANCELED`` and ``FAILED``."""

    INITIALIZING = "INITIALIZING"
    IN_PROGRESS = "IN_PROGRESS"
    FINALIZING = "FINALIZING"
    SUCCESSFUL = "SUCCESSFUL"
    CANCELED = "CANCELED"
    FAILED = "FAILED"

    @classmethod
    def _successes(cls) -> frozenset[Any]:
        return frozenset({cls.SUCCESSFUL})

    @classmethod
    def _failures(cls) -> frozenset[Any]:
        return frozenset({cls.CANCELED, cls.FAILED})


class RestoredCollectionState(ResourceState):
    """One collection's ``state`` within a collection restore job."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    FINALIZING = "FINALIZING"
    ROLLBACK = "ROLLBACK"
    SUCCESSFUL = "SUCCESSFUL"
    NOT_FOUND = "NOT_FOUND"
    UNSUPPORTED = "UNSUPPORTED"
    NOT_RESTORED = "NOT_RESTORED"
    FAILED = "FAILED"
    INDEX_BUILD_FAILED = "INDEX_BUILD_FAILED"

    @classmethod
    def _successes(cls) -> frozenset[Any]:
        return frozenset({cls.SUCCESSFUL})

    @classmethod
    def _failures(cls) -> frozenset[Any]:
        return frozenset(
            {cls.NOT_FOUND, cls.UNSUPPORTED, cls.NOT_RESTORED, cls.FAILED, cls.INDEX_BUILD_FAILED}
        )


def _index_state(raw: Mapping[str, Any]) -> str | None:
    status = raw.get("indexStatus")
    return text_field(status, "state") if isinstance(status, Mapping) else None


@dataclass(frozen=True)
class CollectionRestoreJob:
    """
    A typed view of one collection restore job; ``raw`` keeps every field Atlas sent.

    :param raw: the job as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> CollectionRestoreJob:
        """Wrap one job from an API answer; missing and unknown fields are tolerated."""
        return cls(raw=raw)

    @property
    def id(self) -> str | None:
        """Return the job id."""
        return text_field(self.raw, "id")

    @property
    def state(self) -> CollectionRestoreState | None:
        """Return the state, or ``None`` when Atlas sent none this enum knows."""
        return CollectionRestoreState.parse(self.raw.get("state"))

    @property
    def restored_documents(self) -> int | None:
        """Return the documents restored so far."""
        return count_field(self.raw, "restoredDocuments")

    @property
    def total_documents(self) -> int | None:
        """Return the documents to restore (at first an estimate)."""
        return count_field(self.raw, "totalDocuments")

    @property
    def error_message(self) -> str | None:
        """Return Atlas's reason for a failed or cancelled job."""
        return text_field(self.raw, "errorMessage")

    @property
    def index_state(self) -> str | None:
        """Return the index build state (``indexStatus.state``)."""
        return _index_state(self.raw)

    @property
    def failed_index_collections(self) -> int | None:
        """Return how many collections failed to build indexes (``indexStatus.failedCollectionCount``)."""
        status = self.raw.get("indexStatus")
        return count_field(status, "failedCollectionCount") if isinstance(status, Mapping) else None

    @property
    def created_at(self) -> datetime | None:
        """Return when the job was created."""
        return parse_timestamp(self.raw.get("createdAt"))

    @property
    def finished_at(self) -> datetime | None:
        """Return when the job ended."""
        return parse_timestamp(self.raw.get("finishedAt"))

    def progress(self) -> str | None:
        """Return ``12,000 of 20,000 documents restored (60%)``, or ``None`` without counts."""
        restored, total = self.restored_documents, self.total_documents
        if restored is None or total is None:
            return None
        percent = f" ({100 * restored // total}%)" if total else ""
        return f"{restored:,} of {total:,} documents restored{percent}"


@dataclass(frozen=True)
class RestoredCollection:
    """
    A typed view of one collection's state in a collection restore job.

    :param raw: the collection state as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> RestoredCollection:
        """Wrap one collection state from an API answer."""
        return cls(raw=raw)

    @property
    def source_namespace(self) -> str | None:
        """Return the collection in the snapshot, ``database.collection``."""
        return text_field(self.raw, "sourceNamespace")

    @property
    def target_namespace(self) -> str | None:
        """Return the namespace asked for on the target."""
        return text_field(self.raw, "targetNamespace")

    @property
    def effective_target_namespace(self) -> str | None:
        """Return where the collection really went (after suffixes or a rename)."""
        return text_field(self.raw, "effectiveTargetNamespace")

    @property
    def state(self) -> RestoredCollectionState | None:
        """Return the collection's state, or ``None`` when Atlas sent none this enum knows."""
        return RestoredCollectionState.parse(self.raw.get("state"))

    @property
    def restored_documents(self) -> int | None:
        """Return the collection's documents restored so far."""
        return count_field(self.raw, "restoredDocuments")

    @property
    def total_documents(self) -> int | None:
        """Return the collection's documents."""
        return count_field(self.raw, "totalDocuments")

    @property
    def index_state(self) -> str | None:
        """Return the collection's index build state."""
        return _index_state(self.raw)


def describe_failed_collections(collections: Sequence[Mapping[str, Any]]) -> str | None:
    """
    Return ``sales.orders FAILED, sales.users NOT_FOUND`` for the collections that did not make it.

    :param collections: the job's collection states as Atlas listed them.
    """
    failed = []
    for item in collections:
        view = RestoredCollection.from_api(item)
        if view.state is not None and view.state.is_failure:
            failed.append(f"{view.source_namespace or '?'} {view.state.value}")
    if not failed:
        return None
    shown = ", ".join(failed[:NAMED_FAILURES])
    more = len(failed) - NAMED_FAILURES
    return shown + (f" and {more} more" if more > 0 else "")


def evaluate_collection_restore_job(
    job: Mapping[str, Any],
    *,
    cluster_name: str,
    job_id: str | None = None,
    collections: Sequence[Mapping[str, Any]] | None = None,
) -> WaitOutcome:
    """
    Decide whether waiting for a collection restore is over, and how; the message gives the progress.

    :param job: the job as Atlas returned it.
    :param cluster_name: its source cluster, for the message.
    :param job_id: the validated id asked for, named rather than the id the server echoed.
    :param collections: its collection states, to name the ones that failed.
    """
    view = CollectionRestoreJob.from_api(job)
    what = f"Collection restore job {job_id or view.id} of cluster {cluster_name}"
    state = view.state
    progress = view.progress()
    if state is None:
        return WaitOutcome(
            WaitStatus.PENDING,
            CollectionRestoreState.INITIALIZING,
            f"{what} reports state {job.get('state')!r}, which Atlas does not document: waiting on.",
        )
    if state.is_failure:
        parts = [view.error_message.rstrip(".") if view.error_message else "Atlas gives no reason"]
        failed = describe_failed_collections(collections or [])
        if failed:
            parts.append(f"collections not restored: {failed}")
        if progress:
            parts.append(progress)
        return WaitOutcome(WaitStatus.FAILED, state, f"{what} is {state.value}: " + "; ".join(parts) + ".")
    if state.is_success:
        done = f" ({progress})" if progress else ""
        return WaitOutcome(WaitStatus.DONE, state, f"{what} is {state.value}{done}.")
    return WaitOutcome(
        WaitStatus.PENDING, state, f"{what} is {state.value}" + (f": {progress}." if progress else ".")
    )


@dataclass(frozen=True)
class CollectionRestoreResult:
    """
    A collection restore job as a task hands it on (XCom).

    :param collection_restore_job_id: the job id.
    :param cluster_name: its source cluster.
    :param group_id: its project.
    :param state: its state when read.
    :param restored_documents: documents restored.
    :param total_documents: documents to restore.
    :param target_cluster_name: the cluster restored into.
    :param finished_at: when it ended.
    :param error_message: Atlas's reason for a failure.
    """

    collection_restore_job_id: str
    cluster_name: str | None
    group_id: str | None
    state: CollectionRestoreState | None = None
    restored_documents: int | None = None
    total_documents: int | None = None
    target_cluster_name: str | None = None
    finished_at: datetime | None = None
    error_message: str | None = None

    @classmethod
    def from_job(
        cls,
        job: Mapping[str, Any],
        *,
        collection_restore_job_id: str,
        cluster_name: str | None,
        group_id: str | None,
    ) -> CollectionRestoreResult:
        """
        Read a job as Atlas returned it; the id is the validated one, not the echoed one.

        :param job: the job.
        :param collection_restore_job_id: its id.
        :param cluster_name: its source cluster.
        :param group_id: its project.
        """
        view = CollectionRestoreJob.from_api(job)
        return cls(
            collection_restore_job_id=collection_restore_job_id,
            cluster_name=cluster_name,
            group_id=group_id,
            state=view.state,
            restored_documents=view.restored_documents,
            total_documents=view.total_documents,
            target_cluster_name=text_field(job, "targetClusterName"),
            finished_at=view.finished_at,
            error_message=view.error_message,
        )

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON dict handed downstream through XCom."""
        return {
            "collection_restore_job_id": self.collection_restore_job_id,
            "cluster_name": self.cluster_name,
            "group_id": self.group_id,
            "state": self.state.value if self.state else None,
            "restored_documents": self.restored_documents,
            "total_documents": self.total_documents,
            "target_cluster_name": self.target_cluster_name,
            "finished_at": iso_or_none(self.finished_at),
            "error_message": self.error_message,
        }

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> CollectionRestoreResult:
        """
        Read back what :meth:`to_xcom` gave, or raise :class:`AtlasInputError` naming the bad field.

        :param data: the XCom dict.
        """
        fields = XcomFields(data, "collection_restore_job")
        job_id = fields.object_id("collection_restore_job_id")
        if job_id is None:
            raise AtlasInputError(
                "collection_restore_job: collection_restore_job_id is missing: pass a restore task's XCom value."
            )
        return cls(
            collection_restore_job_id=job_id,
            cluster_name=fields.cluster_name(),
            group_id=fields.object_id("group_id"),
            state=fields.state("state", CollectionRestoreState),
            restored_documents=fields.integer("restored_documents"),
            total_documents=fields.integer("total_documents"),
            target_cluster_name=fields.cluster_name("target_cluster_name"),
            finished_at=fields.moment("finished_at"),
            error_message=fields.text("error_message"),
        )
