"""
Requests for export buckets (project level, resource version 2024-05-30) and snapshot export jobs
(per cluster, 2023-01-01).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.request_building import RequestBuilding

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest

#: Export buckets: 2023-01-01 is sunset for them (and knows AWS buckets only).
MEDIA_TYPE_V2_2024_05_30 = "application/vnd.atlas.2024-05-30+json"
#: Bucket and export pages: Atlas's largest page size.
EXPORT_ITEMS_PER_PAGE = 500


class ExportRequests(RequestBuilding):
    """Builders for ``/backup/exportBuckets`` and ``/clusters/{name}/backup/exports``."""

    def export_buckets_path(self, group_id: str) -> str:
        """
        Return the full path of a project's export buckets (what a listing's errors name).

        :param group_id: the project id.
        """
        return self.prefix + self._group_path(group_id) + "/backup/exportBuckets"

    def list_export_buckets_request(
        self, group_id: str, *, page_num: int = 1, items_per_page: int = EXPORT_ITEMS_PER_PAGE
    ) -> ApiRequest:
        """
        Build ``GET /groups/{groupId}/backup/exportBuckets``: one page of the project's buckets.

        :param group_id: the project id.
        :param page_num: the page, from 1.
        :param items_per_page: buckets per page, 1 to 500.
        """
        path = self._group_path(group_id) + "/backup/exportBuckets"
        params = self._page_params(page_num, items_per_page)
        return self._request("GET", path, params=params, v2_media_type=MEDIA_TYPE_V2_2024_05_30)

    def get_export_bucket_request(self, group_id: str, export_bucket_id: str) -> ApiRequest:
        """
        Build ``GET /groups/{groupId}/backup/exportBuckets/{exportBucketId}``: one bucket, with ``region``.

        :param group_id: the project id.
        :param export_bucket_id: the bucket's id (its ``_id``).
        """
        bucket = self._id_segment(export_bucket_id, "export_bucket_id")
        path = self._group_path(group_id) + f"/backup/exportBuckets/{bucket}"
        return self._request("GET", path, v2_media_type=MEDIA_TYPE_V2_2024_05_30)

    def export_jobs_path(self, group_id: str, cluster_name: str) -> str:
        """
        Return the full path of a cluster's export jobs (what a listing's errors name).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        """
        return self.prefix + self._cluster_path(group_id, cluster_name) + "/backup/exports"

    def list_export_jobs_request(
        self,
        group_id: str,
        cluster_name: str,
        *,
        page_num: int = 1,
        items_per_page: int = EXPORT_ITEMS_PER_PAGE,
    ) -> ApiRequest:
        """
        Build ``GET .../backup/exports``: one page of a cluster's export jobs.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/exports"
        return self._request("GET", path, params=self._page_params(page_num, items_per_page))

    def get_export_job_request(self, group_id: str, cluster_name: str, export_id: str) -> ApiRequest:
        """
        Build ``GET .../backup/exports/{exportId}``: one export job.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param export_id: the export job id.
        """
        job = self._id_segment(export_id, "export_id")
        return self._request("GET", self._cluster_path(group_id, cluster_name) + f"/backup/exports/{job}")

    def create_export_job_request(
        self, group_id: str, cluster_name: str, body: Mapping[str, Any]
    ) -> ApiRequest:
        """
        Build ``POST .../backup/exports``: export a completed snapshot into a bucket (200, ``Queued``).

        :param group_id: the project id.
        :param cluster_name: the cluster whose snapshot is exported.
        :param body: as built by :meth:`~airflow_provider_atlas_restore.api.backup_bodies.ExportJobSpec.to_body`.
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/exports"
        return self._request("POST", path, json_body=dict(body))
