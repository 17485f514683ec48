"""
The collection-restore operations of :class:`~.atlas.AtlasHook`: create, read and list jobs, and
list a job's per-collection states (resource version 2025-03-12, v2 only).

Atlas has no cancel for these jobs. A create answers 201.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.api.collection_restore_bodies import CollectionRestoreSpec
from airflow_provider_atlas_restore.api.collection_restore_endpoints import COLLECTION_RESTORE_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import MAX_ITEMS_PER_PAGE, validate_int_range
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.models.collection_restore_job import (
    CollectionRestoreJob,
    evaluate_collection_restore_job,
)
from airflow_provider_atlas_restore.models.wait import WaitStatus

#: The body fields that say what a collection restore restores, from where, to where.
_SAME_REQUEST_FIELDS = (
    "snapshotId",
    "pointInTimeUtcSeconds",
    "oplogTs",
    "oplogInc",
    "targetClusterName",
    "targetGroupId",
    "writeStrategy",
)


def _source_namespaces(items: Any) -> frozenset[str]:
    if not isinstance(items, list):
        return frozenset()
    return frozenset(str(item.get("sourceNamespace")) for item in items if isinstance(item, Mapping))


def same_collection_restore(job: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """
    Return whether ``job`` restores what the create ``body`` asks for: same source, target, strategy, namespaces.

    :param job: a collection restore job as Atlas returned it.
    :param body: the create request's body (:meth:`CollectionRestoreSpec.to_body`).
    """
    if any((job.get(name) or None) != (body.get(name) or None) for name in _SAME_REQUEST_FIELDS):
        return False
    return all(
        _source_namespaces(job.get(name)) == _source_namespaces(body.get(name))
        for name in ("databases", "collections")
    )


def _check_listing(page_size: int, max_items: int | None, max_pages: int) -> None:
    validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
    if max_items is not None:
        validate_int_range(max_items, "max_items", 0)
    validate_int_range(max_pages, "max_pages", 1)


class CollectionRestoreOperations(HookOperations):
    """Collection-level restore jobs of a dedicated cluster (``/clusters/{name}/collectionRestoreJobs``)."""

    def create_collection_restore_job(
        self, cluster_name: str, spec: CollectionRestoreSpec, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Start a collection restore and return the new job (``INITIALIZING``); the spec is checked first.

        ``OVERWRITE_EXISTING`` drops and replaces the target namespaces. A create is not repeated
        after a 5xx or a lost answer (the job may exist already).

        :param cluster_name: the source cluster (whose backup is restored).
        :param spec: what to restore, from which backup, to where.
        :param group_id: the project id of the source cluster; defaults to the connection's ``group_id`` extra.
        """
        if not isinstance(spec, CollectionRestoreSpec):
            raise AtlasInputError(
                f"spec must be a CollectionRestoreSpec, not {type(spec).__name__}: it names the "
                "collections, the source backup and the target cluster."
            )
        body = spec.to_body()
        request = self.api.create_collection_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, body
        )
        job = expect_mapping(request, 201, self.run(request, retry_if=is_safe_to_repeat_create))
        self.log.info(
            "Created collection restore job %s of cluster %s into cluster %s (%d databases, %d collections, %s)",
            job.get("id"),
            cluster_name,
            spec.target_cluster_name,
            len(body.get("databases", [])),
            len(body.get("collections", [])),
            body["writeStrategy"],
        )
        return job

    def get_collection_restore_job(
        self, cluster_name: str, collection_restore_job_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one collection restore job as Atlas describes it (all fields kept).

        :param cluster_name: the source cluster.
        :param collection_restore_job_id: the job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_collection_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, collection_restore_job_id
        )
        return expect_mapping(request, 200, self.run(request))

    def get_collection_restore_jobs_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a cluster's collection restore jobs.

        :param cluster_name: the source cluster.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        request = self.api.list_collection_restore_jobs_request(
            self.resolve_group_id(group_id), cluster_name, page_num=page_num, items_per_page=items_per_page
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_collection_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every collection restore job of a cluster once, in server order, reading all pages.

        :param cluster_name: the source cluster.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never ends.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.collection_restore_jobs_path(group, cluster_name)
        _check_listing(page_size, max_items, max_pages)

        def fetch_page(page_num: int) -> Page:
            return self.get_collection_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size
            )

        listing = UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)
        jobs = list(listing)
        self.log.info(
            "Read %d collection restore jobs of cluster %s in %d pages",
            len(jobs),
            cluster_name,
            listing.pages_read,
        )
        return jobs

    def get_restored_collections_page(
        self,
        cluster_name: str,
        collection_restore_job_id: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
        state: str | None = None,
    ) -> Page:
        """
        Return one page of a collection restore job's per-collection states.

        :param cluster_name: the source cluster.
        :param collection_restore_job_id: the job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: collections per page, 1 to 500.
        :param state: only collections in this state (such as ``FAILED``).
        """
        request = self.api.list_restored_collections_request(
            self.resolve_group_id(group_id),
            cluster_name,
            collection_restore_job_id,
            page_num=page_num,
            items_per_page=items_per_page,
            state=state,
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_restored_collections(
        self,
        cluster_name: str,
        collection_restore_job_id: str,
        group_id: str | None = None,
        *,
        state: str | None = None,
        page_size: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every collection state of a job once (told apart by ``sourceNamespace``), reading all pages.

        Empty while the job is ``INITIALIZING``: Atlas has not made the states yet.

        :param cluster_name: the source cluster.
        :param collection_restore_job_id: the job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param state: only collections in this state (such as ``FAILED``).
        :param page_size: collections per request, 1 to 500.
        :param max_pages: the most pages one pass reads before giving up on a server that never ends.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.restored_collections_path(group, cluster_name, collection_restore_job_id)
        _check_listing(page_size, None, max_pages)

        def fetch_page(page_num: int) -> Page:
            return self.get_restored_collections_page(
                cluster_name,
                collection_restore_job_id,
                group,
                page_num=page_num,
                items_per_page=page_size,
                state=state,
            )

        listing = UniqueItems(fetch_page, max_pages=max_pages, path=path, item_key="sourceNamespace")
        return list(listing)

    def find_collection_restore_job_to_adopt(
        self,
        cluster_name: str,
        spec: CollectionRestoreSpec,
        group_id: str | None = None,
        *,
        created_since: datetime,
    ) -> dict[str, Any] | None:
        """
        Return the newest job of the same request as ``spec`` created since a moment and not failed; or ``None``.

        An earlier try of a task may have started it. ``FAILED`` and ``CANCELED`` jobs are passed
        over; the one returned was read afresh.

        :param cluster_name: the source cluster.
        :param spec: the restore asked for.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param created_since: the earliest creation time (aware) of a job to adopt.
        """
        group = self.resolve_group_id(group_id)
        body = spec.to_body()
        since = created_since if created_since.tzinfo else created_since.replace(tzinfo=timezone.utc)
        candidates = []
        for job in self.list_collection_restore_jobs(cluster_name, group):
            view = CollectionRestoreJob.from_api(job)
            created = view.created_at
            if (
                view.id is None
                or created is None
                or created < since
                or not same_collection_restore(job, body)
            ):
                continue
            candidates.append((created, view.id))
        for _created, job_id in sorted(candidates, reverse=True):
            job = self.get_collection_restore_job(cluster_name, job_id, group)
            outcome = evaluate_collection_restore_job(job, cluster_name=cluster_name, job_id=job_id)
            if outcome.status is not WaitStatus.FAILED:
                self.log.info(
                    "Adopting collection restore job %s started by an earlier try of this task instance "
                    "(created since %s) instead of starting another. %s",
                    job_id,
                    since.isoformat(),
                    outcome.message,
                )
                return job
        return None
