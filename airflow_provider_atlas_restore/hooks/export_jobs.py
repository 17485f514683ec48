"""
The export operations of :class:`~.atlas.AtlasHook`: export buckets (list, read, find by name) and
snapshot export jobs (create, read, list).

Buckets are answered with ``_id``, not ``id``, and a project can hold thousands (one recorded
list: 100 of 2508), so listings read every page, told apart by ``_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.api.backup_bodies import ExportJobSpec
from airflow_provider_atlas_restore.api.export_endpoints import EXPORT_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import MAX_ITEMS_PER_PAGE, validate_int_range
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.models.export_bucket import ExportBucket
from airflow_provider_atlas_restore.models.export_job import ExportJob, evaluate_export_job
from airflow_provider_atlas_restore.models.wait import WaitStatus

#: How many matching bucket ids an ambiguous lookup names.
_NAMED_BUCKETS = 5


def _validate_bucket_name(value: Any) -> str:
    if not isinstance(value, str) or not 3 <= len(value) <= 63:
        raise AtlasInputError(
            f"bucket_name={value!r} is not an export bucket name: it must be text of 3 to 63 characters "
            "(the S3 or GCS bucket, or the Azure container, of an export bucket of the project)."
        )
    return value


class ExportJobOperations(HookOperations):
    """Export buckets of a project and snapshot export jobs of a dedicated cluster."""

    # -- export buckets ------------------------------------------------------------------
    def get_export_buckets_page(
        self, group_id: str | None = None, *, page_num: int = 1, items_per_page: int = EXPORT_ITEMS_PER_PAGE
    ) -> Page:
        """
        Return one page of the project's export buckets.

        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: buckets per page, 1 to 500.
        """
        request = self.api.list_export_buckets_request(
            self.resolve_group_id(group_id), page_num=page_num, items_per_page=items_per_page
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_export_buckets(
        self,
        group_id: str | None = None,
        *,
        page_size: int = EXPORT_ITEMS_PER_PAGE,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every export bucket of the project once, reading all pages.

        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: buckets per request, 1 to 500.
        :param max_pages: the most pages one pass reads before giving up on a server that never ends.
        """
        group = self.resolve_group_id(group_id)
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_export_buckets_page(group, page_num=page_num, items_per_page=page_size)

        listing = UniqueItems(
            fetch_page, max_pages=max_pages, path=self.api.export_buckets_path(group), item_key="_id"
        )
        buckets = list(listing)
        self.log.info(
            "Read %d export buckets of project %s in %d pages", len(buckets), group, listing.pages_read
        )
        return buckets

    def get_export_bucket(self, export_bucket_id: str, group_id: str | None = None) -> dict[str, Any]:
        """
        Return one export bucket as Atlas describes it (with ``region``).

        :param export_bucket_id: the bucket's id (its ``_id``).
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_export_bucket_request(self.resolve_group_id(group_id), export_bucket_id)
        return expect_mapping(request, 200, self.run(request))

    def find_export_bucket(
        self, bucket_name: str, group_id: str | None = None, *, cloud_provider: str | None = None
    ) -> dict[str, Any]:
        """
        Return the project's one export bucket named ``bucket_name``, or raise :class:`AtlasInputError`.

        None, or more than one (stale buckets of one name are common), is an error that says
        what was found; give ``export_bucket_id`` instead then.

        :param bucket_name: the S3 or GCS bucket, or Azure container.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cloud_provider: only buckets of ``AWS``, ``AZURE`` or ``GCP``.
        """
        name = _validate_bucket_name(bucket_name)
        buckets = self.list_export_buckets(group_id)
        found = [
            bucket
            for bucket in buckets
            if ExportBucket.from_api(bucket).bucket_name == name
            and (cloud_provider is None or ExportBucket.from_api(bucket).cloud_provider == cloud_provider)
        ]
        where = f"named {name!r}" + (f" on {cloud_provider}" if cloud_provider else "")
        if not found:
            raise AtlasInputError(
                f"The project has no export bucket {where} ({len(buckets)} buckets listed): create it in Atlas "
                "(Project > Backup > Export buckets), or give export_bucket_id."
            )
        if len(found) > 1:
            ids = ", ".join(str(ExportBucket.from_api(bucket).id) for bucket in found[:_NAMED_BUCKETS])
            more = f" and {len(found) - _NAMED_BUCKETS} more" if len(found) > _NAMED_BUCKETS else ""
            raise AtlasInputError(
                f"The project has {len(found)} export buckets {where} ({ids}{more}): give export_bucket_id "
                "to say which."
            )
        bucket = found[0]
        self.log.info("Export bucket %s is %s", name, ExportBucket.from_api(bucket).id)
        return bucket

    # -- export jobs ---------------------------------------------------------------------
    def create_export_job(
        self,
        cluster_name: str,
        snapshot_id: str | ExportJobSpec,
        export_bucket_id: str | None = None,
        group_id: str | None = None,
        *,
        custom_data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """
        Export a completed snapshot into an export bucket and return the new job (``Queued``).

        A create is not repeated after a 5xx or a lost answer (the job may exist already).

        :param cluster_name: the cluster whose snapshot is exported.
        :param snapshot_id: the snapshot id, or a whole :class:`ExportJobSpec` given without the
            two arguments below.
        :param export_bucket_id: the bucket's id (its ``_id``).
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param custom_data: text keys and values for the metadata file Atlas writes with the export.
        """
        if isinstance(snapshot_id, ExportJobSpec):
            if export_bucket_id is not None or custom_data is not None:
                raise AtlasInputError(
                    "Pass either an ExportJobSpec or snapshot_id with export_bucket_id, not both."
                )
            spec = snapshot_id
        else:
            if export_bucket_id is None:
                raise AtlasInputError("create_export_job needs export_bucket_id: the bucket to export into.")
            spec = ExportJobSpec(snapshot_id, export_bucket_id, dict(custom_data or {}))
        body = spec.to_body()
        request = self.api.create_export_job_request(self.resolve_group_id(group_id), cluster_name, body)
        job = expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create))
        self.log.info(
            "Created export job %s of snapshot %s of cluster %s into bucket %s",
            job.get("id"),
            spec.snapshot_id,
            cluster_name,
            spec.export_bucket_id,
        )
        return job

    def get_export_job(
        self, cluster_name: str, export_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one export job as Atlas describes it (all fields kept).

        :param cluster_name: the cluster name.
        :param export_id: the export job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_export_job_request(self.resolve_group_id(group_id), cluster_name, export_id)
        return expect_mapping(request, 200, self.run(request))

    def get_export_jobs_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = EXPORT_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a cluster's export jobs.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        request = self.api.list_export_jobs_request(
            self.resolve_group_id(group_id), cluster_name, page_num=page_num, items_per_page=items_per_page
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_export_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = EXPORT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every export job of a cluster once, in server order, reading all pages.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never ends.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.export_jobs_path(group, cluster_name)
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_export_jobs_page(cluster_name, group, page_num=page_num, items_per_page=page_size)

        listing = UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)
        jobs = list(listing)
        self.log.info(
            "Read %d export jobs of cluster %s in %d pages", len(jobs), cluster_name, listing.pages_read
        )
        return jobs

    def find_export_job_to_adopt(
        self,
        cluster_name: str,
        export_bucket_id: str,
        group_id: str | None = None,
        *,
        created_since: datetime,
        snapshot_id: str | None = None,
    ) -> dict[str, Any] | None:
        """
        Return the newest export job of a snapshot into a bucket created since a moment and not failed; or ``None``.

        An earlier try of a task may have started it (its answer lost, or the worker gone). Jobs
        ``Failed`` or ``Cancelled`` are passed over; the one returned was read afresh.

        :param cluster_name: the cluster whose snapshot is exported.
        :param export_bucket_id: the bucket the job exports into.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param created_since: the earliest creation time (aware) of a job to adopt.
        :param snapshot_id: the snapshot exported; ``None`` for any (a request of ``"latest"``).
        """
        group = self.resolve_group_id(group_id)
        since = created_since if created_since.tzinfo else created_since.replace(tzinfo=timezone.utc)
        candidates = []
        for job in self.list_export_jobs(cluster_name, group):
            view = ExportJob.from_api(job)
            if view.export_bucket_id != export_bucket_id or view.id is None:
                continue
            if snapshot_id is not None and view.snapshot_id != snapshot_id:
                continue
            if view.created_at is None or view.created_at < since:
                continue
            candidates.append((view.created_at, view.id))
        for _created, export_id in sorted(candidates, reverse=True):
            job = self.get_export_job(cluster_name, export_id, group)
            outcome = evaluate_export_job(job, cluster_name=cluster_name, export_id=export_id)
            if outcome.status is not WaitStatus.FAILED:
                self.log.info(
                    "Adopting export job %s started by an earlier try of this task instance (created since "
                    "%s) instead of starting another. %s",
                    export_id,
                    since.isoformat(),
                    outcome.message,
                )
                return job
        return None
