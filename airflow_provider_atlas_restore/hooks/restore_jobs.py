"""The restore-job operations of :class:`~.atlas.AtlasHook`: list, read, create and cancel."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec, restore_job_spec
from airflow_provider_atlas_restore.api.endpoints import DEFAULT_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import (
    MAX_ITEMS_PER_PAGE,
    validate_flag,
    validate_int_range,
)
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.masking import mask_delivery_urls


class RestoreJobOperations(HookOperations):
    """Cloud Backup restore jobs of a dedicated cluster (``/clusters/{name}/backup/restoreJobs``)."""

    def get_restore_jobs_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
        include_count: bool = True,
        pretty: bool = False,
        envelope: bool = False,
    ) -> Page:
        """
        Return one page of a cluster's restore jobs, newest first.

        Download links in a listing are not registered with the secret masker; pass a job to
        :func:`mask_delivery_urls` before logging or returning its links.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        :param include_count: ask Atlas for ``totalCount``.
        :param pretty: ask Atlas for indented JSON.
        :param envelope: ask Atlas for an envelope; it is removed before the page is returned.
        """
        request = self.api.list_restore_jobs_request(
            self.resolve_group_id(group_id),
            cluster_name,
            page_num=page_num,
            items_per_page=items_per_page,
            include_count=validate_flag(include_count, "include_count"),
            pretty=validate_flag(pretty, "pretty"),
            envelope=validate_flag(envelope, "envelope"),
        )
        # Links in a listing are not registered with the secret masker: registering costs time
        # that grows with every secret (minutes for thousands of jobs). Callers that log or
        # return a listed job's links mask them first, as AtlasListRestoreJobsOperator does.
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def iter_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> UniqueItems:
        """
        Return a lazy listing of every restore job of a cluster, each once, in server order.

        Pages are requested as the listing is iterated; its ``pages_read`` and ``items_read``
        count what was read so far. Arguments are checked now, before any request. A job
        without an ``id`` in the answer raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasResponseError`.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never
            ends; fewer when the first page's ``totalCount`` justifies fewer (see
            :func:`~airflow_provider_atlas_restore.api.paging.pass_page_limit`).
        """
        group = self.resolve_group_id(group_id)
        path = self.api.restore_jobs_path(group, cluster_name)  # the path alone: no request built
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size
            )

        return UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)

    def list_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every restore job of a cluster once, in server order, reading all pages.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never
            ends; fewer when the first page's ``totalCount`` justifies fewer (see
            :func:`~airflow_provider_atlas_restore.api.paging.pass_page_limit`).
        """
        listing = self.iter_restore_jobs(
            cluster_name, group_id, page_size=page_size, max_items=max_items, max_pages=max_pages
        )
        jobs = list(listing)
        self.log.info(
            "Read %d restore jobs of cluster %s in %d pages", len(jobs), cluster_name, listing.pages_read
        )
        return jobs

    def get_restore_job(
        self, cluster_name: str, restore_job_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one restore job as Atlas describes it (all fields kept).

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, restore_job_id
        )
        return mask_delivery_urls(expect_mapping(request, 200, self.run(request)))

    def create_restore_job(
        self,
        cluster_name: str,
        delivery_type: str | RestoreJobSpec,
        group_id: str | None = None,
        *,
        snapshot_id: str | None = None,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | None = None,
        oplog_ts: int | None = None,
        oplog_inc: int | None = None,
    ) -> dict[str, Any]:
        """
        Start a restore and return the new job; what each delivery type needs is checked first.

        ``automated`` and ``pointInTime`` restores overwrite the target cluster's data. A create
        is not retried after a 5xx or a lost answer, since the job may exist already: only 429
        (refused before anything happened) and connection failures before sending are retried.

        :param cluster_name: the cluster whose snapshot is restored.
        :param delivery_type: ``download``, ``automated`` or ``pointInTime``; or a whole
            :class:`~airflow_provider_atlas_restore.api.bodies.RestoreJobSpec`, given without the
            keyword arguments below.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param snapshot_id: the snapshot to restore (``download`` and ``automated``).
        :param target_cluster_name: the cluster to overwrite (``automated``, ``pointInTime``).
        :param target_group_id: the target cluster's project (``automated``, ``pointInTime``).
        :param point_in_time_utc_seconds: the moment to restore to (``pointInTime``).
        :param oplog_ts: the oplog timestamp to restore to, with ``oplog_inc`` (``pointInTime``).
        :param oplog_inc: the operation number within ``oplog_ts`` (``pointInTime``).
        """
        spec = restore_job_spec(
            delivery_type,
            snapshot_id=snapshot_id,
            target_cluster_name=target_cluster_name,
            target_group_id=target_group_id,
            point_in_time_utc_seconds=point_in_time_utc_seconds,
            oplog_ts=oplog_ts,
            oplog_inc=oplog_inc,
        )
        request = self.api.create_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, spec.to_body()
        )
        job = expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create))
        self.log.info(
            "Created %s restore job %s of cluster %s", spec.delivery_type, job.get("id"), cluster_name
        )
        return mask_delivery_urls(job)

    def cancel_restore_job(self, cluster_name: str, restore_job_id: str, group_id: str | None = None) -> None:
        """
        Cancel a restore job; raise a clear :class:`AtlasApiError` (405) when Atlas refuses.

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.cancel_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, restore_job_id
        )
        try:
            self.run(request)
        except AtlasApiError as error:
            if error.status == 405:
                raise AtlasApiError(
                    status=405,
                    method=error.method,
                    path=error.path,
                    error_code=error.error_code,
                    reason=error.reason,
                    parameters=error.parameters,
                    # What can be cancelled is the 405 advice, added after this detail.
                    detail=(
                        f"Atlas refuses to cancel restore job {restore_job_id} of cluster {cluster_name}"
                        + (f" ({error.detail.strip().rstrip('.')})" if error.detail else "")
                    ),
                ) from None
            raise
        self.log.info("Cancelled restore job %s of cluster %s", restore_job_id, cluster_name)
