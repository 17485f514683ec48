"""Requests for collection-level restore jobs (resource version 2025-03-12, v2 only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_atlas_restore.api.collection_restore_bodies import validate_collection_namespace
from airflow_provider_atlas_restore.api.request_building import RequestBuilding
from airflow_provider_atlas_restore.api.validation import validate_choice
from airflow_provider_atlas_restore.exceptions import AtlasInputError

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest

MEDIA_TYPE_V2_2025_03_12 = "application/vnd.atlas.2025-03-12+json"
#: Collection restore jobs and their collections, a page.
COLLECTION_RESTORE_ITEMS_PER_PAGE = 500
#: The per-collection states the spec lists (``state`` filter of the collections listing).
RESTORED_COLLECTION_STATES = (
    *("NOT_STARTED", "IN_PROGRESS", "FINALIZING", "NOT_FOUND", "UNSUPPORTED"),
    *("SUCCESSFUL", "ROLLBACK", "NOT_RESTORED", "FAILED", "INDEX_BUILD_FAILED"),
)


class CollectionRestoreRequests(RequestBuilding):
    """Builders for ``/clusters/{name}/collectionRestoreJobs`` and its ``/collections``."""

    def _jobs_path(self, group_id: str, cluster_name: str) -> str:
        if self.api_version != "v2":
            raise AtlasInputError(
                f"Collection restores exist in the v2 API only, not {self.api_version}: set the "
                "connection's api_version extra to v2."
            )
        return self._cluster_path(group_id, cluster_name) + "/collectionRestoreJobs"

    def _job_path(self, group_id: str, cluster_name: str, job_id: str) -> str:
        return (
            self._jobs_path(group_id, cluster_name)
            + "/"
            + self._id_segment(job_id, "collection_restore_job_id")
        )

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> ApiRequest:
        return self._request("GET", path, params=params, v2_media_type=MEDIA_TYPE_V2_2025_03_12)

    def collection_restore_jobs_path(self, group_id: str, cluster_name: str) -> str:
        """
        Return the full path of a cluster's collection restore jobs (what a listing's errors name).

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        """
        return self.prefix + self._jobs_path(group_id, cluster_name)

    def list_collection_restore_jobs_request(
        self,
        group_id: str,
        cluster_name: str,
        *,
        page_num: int = 1,
        items_per_page: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
    ) -> ApiRequest:
        """
        Build ``GET .../collectionRestoreJobs``: one page of a cluster's collection restore jobs.

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        params = self._page_params(page_num, items_per_page, include_count=None)
        return self._get(self._jobs_path(group_id, cluster_name), params)

    def get_collection_restore_job_request(self, group_id: str, cluster_name: str, job_id: str) -> ApiRequest:
        """
        Build ``GET .../collectionRestoreJobs/{jobId}``: one job, with its state and document counts.

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        :param job_id: the collection restore job id.
        """
        return self._get(self._job_path(group_id, cluster_name, job_id))

    def create_collection_restore_job_request(
        self, group_id: str, cluster_name: str, body: Mapping[str, Any]
    ) -> ApiRequest:
        """
        Build ``POST .../collectionRestoreJobs``: start a collection restore (201, ``INITIALIZING``).

        :param group_id: the project id of the source cluster.
        :param cluster_name: the source cluster.
        :param body: as built by
            :meth:`~airflow_provider_atlas_restore.api.collection_restore_bodies.CollectionRestoreSpec.to_body`.
        """
        return self._request(
            "POST",
            self._jobs_path(group_id, cluster_name),
            json_body=dict(body),
            v2_media_type=MEDIA_TYPE_V2_2025_03_12,
        )

    def restored_collections_path(self, group_id: str, cluster_name: str, job_id: str) -> str:
        """
        Return the full path of a job's collection states (what a listing's errors name).

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        :param job_id: the collection restore job id.
        """
        return self.prefix + self._job_path(group_id, cluster_name, job_id) + "/collections"

    def list_restored_collections_request(
        self,
        group_id: str,
        cluster_name: str,
        job_id: str,
        *,
        page_num: int = 1,
        items_per_page: int = COLLECTION_RESTORE_ITEMS_PER_PAGE,
        state: str | None = None,
    ) -> ApiRequest:
        """
        Build ``GET .../collectionRestoreJobs/{jobId}/collections``: one page of per-collection states.

        Atlas answers an empty list while the job is ``INITIALIZING``.

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        :param job_id: the collection restore job id.
        :param page_num: the page, from 1.
        :param items_per_page: collections per page, 1 to 500.
        :param state: only collections in this state (such as ``FAILED``).
        """
        params = self._page_params(page_num, items_per_page, include_count=None)
        if state is not None:
            params["state"] = validate_choice(state, "state", RESTORED_COLLECTION_STATES)
        return self._get(self._job_path(group_id, cluster_name, job_id) + "/collections", params)

    def get_restored_collection_request(
        self, group_id: str, cluster_name: str, job_id: str, source_namespace: str
    ) -> ApiRequest:
        """
        Build ``GET .../collectionRestoreJobs/{jobId}/collections/{sourceNamespace}``: one collection's state.

        :param group_id: the project id.
        :param cluster_name: the source cluster.
        :param job_id: the collection restore job id.
        :param source_namespace: the collection, ``database.collection``.
        """
        namespace = quote(validate_collection_namespace(source_namespace, "source_namespace"), safe="")
        return self._get(self._job_path(group_id, cluster_name, job_id) + f"/collections/{namespace}")
