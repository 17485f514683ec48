"""The restore-job operations of :class:`~.atlas.AtlasHook`: list, read, create and cancel."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec, restore_job_spec
from airflow_provider_atlas_restore.api.endpoints import DEFAULT_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import (
    MAX_ITEMS_PER_PAGE,
    validate_cluster_name,
    validate_cluster_type,
    validate_flag,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasClusterKindError
from airflow_provider_atlas_restore.hooks.cluster_kinds import ClusterKindOperations
from airflow_provider_atlas_restore.hooks.flex_backups import FlexBackupOperations
from airflow_provider_atlas_restore.masking import mask_delivery_urls
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind, given_kind
from airflow_provider_atlas_restore.models.restore_job import RestoreJob


def flex_cancel_refused(cluster_name: str, restore_job_id: str) -> AtlasClusterKindError:
    """
    Return the error for cancelling a flex restore job: Atlas has no cancel for them.

    :param cluster_name: the flex cluster.
    :param restore_job_id: the job that was to be cancelled.
    """
    return AtlasClusterKindError(
        f"Restore job {restore_job_id} of cluster {cluster_name} cannot be cancelled: {cluster_name} is a "
        "flex cluster, and Atlas has no cancel for flex restore jobs (they run to COMPLETED or FAILED). "
        "Nothing was sent to cancel it."
    )


class RestoreJobOperations(ClusterKindOperations, FlexBackupOperations):
    """
    Cloud Backup restore jobs of a dedicated cluster (``/clusters/{name}/backup/restoreJobs``) or a flex one.

    Every method takes ``cluster_type``: ``"auto"`` (default) asks Atlas once per hook and
    cluster which kind it is (see :class:`~.cluster_kinds.ClusterKindOperations`) and uses the
    flex API (``/flexClusters/{name}/backup/restoreJobs``) for a flex cluster.
    """

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
        cluster_type: str = "auto",
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
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"`` (the flex API takes no
            ``include_count``, ``pretty`` or ``envelope``).
        """
        group = self.resolve_group_id(group_id)
        validate_cluster_type(cluster_type)
        request = self.api.list_restore_jobs_request(
            group,
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
        return self.by_cluster_kind(
            cluster_name,
            group,
            cluster_type,
            lambda: Page.from_body(request, self.run(request), page_num, items_per_page),
            lambda: self.get_flex_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=items_per_page
            ),
        )

    def iter_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
        cluster_type: str = "auto",
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
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.restore_jobs_path(group, cluster_name)  # the path alone: no request built
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)
        validate_cluster_type(cluster_type)
        if self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX or cluster_type == "flex":
            return self.iter_flex_restore_jobs(
                cluster_name, group, page_size=page_size, max_items=max_items, max_pages=max_pages
            )
        listing: UniqueItems

        def fetch_page(page_num: int) -> Page:
            page = self.get_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size, cluster_type=cluster_type
            )
            if self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX:
                listing.path = self.api.flex_restore_jobs_path(group, cluster_name)
            return page

        listing = UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)
        return listing

    def list_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
        cluster_type: str = "auto",
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
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        listing = self.iter_restore_jobs(
            cluster_name,
            group_id,
            page_size=page_size,
            max_items=max_items,
            max_pages=max_pages,
            cluster_type=cluster_type,
        )
        jobs = list(listing)
        self.log.info(
            "Read %d restore jobs of cluster %s in %d pages", len(jobs), cluster_name, listing.pages_read
        )
        return jobs

    def get_restore_job(
        self,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        *,
        cluster_type: str = "auto",
    ) -> dict[str, Any]:
        """
        Return one restore job as Atlas describes it (all fields kept).

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        request = self.api.get_restore_job_request(group, cluster_name, restore_job_id)
        return self.by_cluster_kind(
            cluster_name,
            group,
            cluster_type,
            lambda: mask_delivery_urls(expect_mapping(request, 200, self.run(request))),
            lambda: self.get_flex_restore_job(cluster_name, restore_job_id, group),
        )

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
        cluster_type: str = "auto",
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
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``. A flex restore is an
            ``automated`` one (see :meth:`create_flex_restore_job`): it always overwrites its target.
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
        group = self.resolve_group_id(group_id)
        kind = given_kind(validate_cluster_type(cluster_type)) or self.known_cluster_kind(cluster_name, group)
        if kind is ClusterKind.FLEX:
            return self.create_flex_restore_job(cluster_name, spec, group)
        request = self.api.create_restore_job_request(group, cluster_name, spec.to_body())
        # Atlas refuses the dedicated create of a flex cluster (400) before creating anything.
        job = self.by_cluster_kind(
            cluster_name,
            group,
            "dedicated" if kind is ClusterKind.DEDICATED else "auto",
            lambda: expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create)),
            lambda: self.create_flex_restore_job(cluster_name, spec, group),
        )
        if RestoreJob.from_api(job).is_flex:
            return job
        self.log.info(
            "Created %s restore job %s of cluster %s", spec.delivery_type, job.get("id"), cluster_name
        )
        return mask_delivery_urls(job)

    def cancel_restore_job(
        self,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        *,
        cluster_type: str = "auto",
    ) -> None:
        """
        Cancel a restore job; raise a clear :class:`AtlasApiError` (405) when Atlas refuses.

        A flex cluster's job raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasClusterKindError`
        before any cancel request (Atlas has none for them); with ``cluster_type="flex"`` before
        any request at all.

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        validate_object_id(restore_job_id, "restore_job_id")
        validate_cluster_name(cluster_name)
        if validate_cluster_type(cluster_type) == "flex":
            raise flex_cancel_refused(cluster_name, restore_job_id)
        group = self.resolve_group_id(group_id)
        if self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX:
            raise flex_cancel_refused(cluster_name, restore_job_id)
        request = self.api.cancel_restore_job_request(group, cluster_name, restore_job_id)

        def refuse() -> None:
            raise flex_cancel_refused(cluster_name, restore_job_id)

        try:
            # The DELETE of a flex cluster's job is refused (400) by the cluster API: nothing is cancelled.
            self.by_cluster_kind(cluster_name, group, cluster_type, lambda: self.run(request), refuse)
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
