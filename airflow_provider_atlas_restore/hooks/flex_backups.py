"""The flex-cluster backup operations of :class:`~.atlas.AtlasHook` (``/flexClusters/{name}/backup/...``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.flex_endpoints import flex_restore_job_body
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import (
    DEFAULT_ITEMS_PER_PAGE,
    MAX_ITEMS_PER_PAGE,
    validate_int_range,
)
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.masking import mask_delivery_urls

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec


class FlexBackupOperations(HookOperations):
    """
    Restore jobs, snapshots and snapshot downloads of a flex cluster, in resource version 2024-11-13.

    The restore-job and snapshot methods of the hook switch to these for a flex cluster; call
    them directly when the cluster is known to be flex.
    """

    def get_flex_restore_jobs_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a flex cluster's restore jobs, newest first.

        :param cluster_name: the flex cluster's name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        request = self.api.list_flex_restore_jobs_request(
            self.resolve_group_id(group_id), cluster_name, page_num=page_num, items_per_page=items_per_page
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def iter_flex_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> UniqueItems:
        """
        Return a lazy listing of every restore job of a flex cluster, each once, newest first.

        :param cluster_name: the flex cluster's name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads (see :class:`~.paging.UniqueItems`).
        """
        group = self.resolve_group_id(group_id)
        path = self.api.flex_restore_jobs_path(group, cluster_name)
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_flex_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size
            )

        return UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)

    def get_flex_restore_job(
        self, cluster_name: str, restore_job_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one flex restore job as Atlas describes it (all fields kept, ``snapshotUrl`` masked).

        :param cluster_name: the flex cluster's name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_flex_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, restore_job_id
        )
        return mask_delivery_urls(expect_mapping(request, 200, self.run(request)))

    def create_flex_restore_job(
        self, cluster_name: str, spec: RestoreJobSpec, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Start a flex restore, which overwrites its target cluster, and return the new job.

        The body is checked first (:func:`~airflow_provider_atlas_restore.api.flex_endpoints.flex_restore_job_body`);
        as for a dedicated create, only 429 and refused connections are retried.

        :param cluster_name: the flex cluster whose snapshot is restored.
        :param spec: an ``automated`` restore: ``snapshot_id``, ``target_cluster_name``, and
            ``target_group_id`` when the target is in another project.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        body = flex_restore_job_body(spec)
        request = self.api.create_flex_restore_job_request(
            self.resolve_group_id(group_id), cluster_name, body
        )
        job = expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create))
        self.log.info(
            "Created flex restore job %s of cluster %s into cluster %s",
            job.get("id"),
            cluster_name,
            body["targetDeploymentItemName"],
        )
        return mask_delivery_urls(job)

    def get_flex_snapshots_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a flex cluster's snapshots, oldest first.

        :param cluster_name: the flex cluster's name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        """
        request = self.api.list_flex_snapshots_request(
            self.resolve_group_id(group_id), cluster_name, page_num=page_num, items_per_page=items_per_page
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_flex_snapshots(self, cluster_name: str, group_id: str | None = None) -> list[dict[str, Any]]:
        """
        Return every snapshot of a flex cluster once, in server order (oldest first), reading all pages.

        :param cluster_name: the flex cluster's name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.flex_snapshots_path(group, cluster_name)

        def fetch_page(page_num: int) -> Page:
            return self.get_flex_snapshots_page(cluster_name, group, page_num=page_num)

        return list(UniqueItems(fetch_page, path=path))

    def get_flex_snapshot(
        self, cluster_name: str, snapshot_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one snapshot of a flex cluster.

        :param cluster_name: the flex cluster's name.
        :param snapshot_id: the snapshot id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_flex_snapshot_request(
            self.resolve_group_id(group_id), cluster_name, snapshot_id
        )
        return expect_mapping(request, 200, self.run(request))

    def download_flex_snapshot(
        self, cluster_name: str, snapshot_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Ask for a flex snapshot's download link: the answer is a restore-job object with ``snapshotUrl``.

        The ``snapshotUrl`` (a bearer link valid four hours) is registered with the secret masker
        before the answer is returned. Transient failures are retried like a read: asking again
        only makes another link of the same snapshot.

        :param cluster_name: the flex cluster's name.
        :param snapshot_id: the snapshot to download.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.download_flex_snapshot_request(
            self.resolve_group_id(group_id), cluster_name, snapshot_id
        )
        job = mask_delivery_urls(expect_mapping(request, 200, self.run(request)))
        self.log.info(
            "Asked for a download link of snapshot %s of flex cluster %s (job %s)",
            snapshot_id,
            cluster_name,
            job.get("id"),
        )
        return job
