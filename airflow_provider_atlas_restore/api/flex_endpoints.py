"""
How requests to the flex-cluster backup API are built (``/groups/{groupId}/flexClusters/{name}/backup/...``).

Mixed into :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests`, so the sync hook
and the async client send what it builds. The family exists only under ``/api/atlas/v2``, in
resource version 2024-11-13; every id is checked before it reaches a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from airflow_provider_atlas_restore.api.validation import (
    DEFAULT_ITEMS_PER_PAGE,
    MAX_ITEMS_PER_PAGE,
    validate_cluster_name,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.exceptions import AtlasClusterKindError, AtlasInputError

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest

#: The one resource version of the flex-cluster API.
MEDIA_TYPE_FLEX = "application/vnd.atlas.2024-11-13+json"


def refuse_flex_cluster(operator: str, cluster_name: object, lacks: str) -> NoReturn:
    """
    Raise :class:`AtlasClusterKindError` for ``cluster_type="flex"`` given to a dedicated-cluster-only operator.

    :param operator: the operator's class name, for the message.
    :param cluster_name: the cluster given, for the message.
    :param lacks: what Atlas has not for flex clusters, e.g. ``"on-demand snapshots"``.
    """
    raise AtlasClusterKindError(
        f"{operator} works on dedicated clusters only: cluster {cluster_name} is given as "
        f"cluster_type='flex', and Atlas has no {lacks} for flex clusters. Use cluster_type='auto' "
        "or 'dedicated' for a dedicated cluster."
    )


def refuse_delivery_type_on_flex(delivery_type: str, cluster_name: str) -> None:
    """
    Raise :class:`AtlasClusterKindError` for a delivery type a flex cluster cannot honour: all but ``automated``.

    :param delivery_type: the restore's delivery type.
    :param cluster_name: the flex cluster, for the message.
    """
    if delivery_type != "automated":
        raise AtlasClusterKindError(
            f"delivery_type={delivery_type!r} cannot be honoured on flex cluster {cluster_name}: every flex "
            "restore overwrites a target cluster, so pass delivery_type='automated', target_cluster_name "
            "and confirm_overwrite=True; flex clusters have no point-in-time restore, and their snapshot "
            "files are downloaded with AtlasDownloadSnapshotOperator. Nothing was created."
        )


def flex_restore_job_body(spec: RestoreJobSpec, cluster_name: str = "") -> dict[str, Any]:
    """
    Return the body of a flex restore: ``snapshotId``, ``targetDeploymentItemName``, ``targetProjectId`` if given.

    Every flex restore overwrites its target (``deliveryType`` is read-only: Atlas always makes a
    ``RESTORE`` job), so only an ``automated`` spec can become one; a download goes through
    ``backup/download`` and flex clusters have no point-in-time restore.

    :param spec: the restore: ``automated``, with ``snapshot_id`` and ``target_cluster_name``.
    :param cluster_name: the flex cluster, for the message.
    """
    refuse_delivery_type_on_flex(spec.delivery_type, cluster_name or "(the source)")
    if any(v is not None for v in (spec.point_in_time_utc_seconds, spec.oplog_ts, spec.oplog_inc)):
        raise AtlasInputError(
            "A flex restore restores a whole snapshot: point_in_time_utc_seconds, oplog_ts and oplog_inc "
            "are not allowed on a flex cluster."
        )
    if spec.snapshot_id is None or spec.target_cluster_name is None:
        raise AtlasInputError(
            "A flex restore needs snapshot_id and target_cluster_name: the snapshot and the cluster whose "
            "data it replaces (target_group_id is optional: the same project by default)."
        )
    body: dict[str, Any] = {
        "snapshotId": validate_object_id(spec.snapshot_id, "snapshot_id"),
        "targetDeploymentItemName": validate_cluster_name(spec.target_cluster_name, "target_cluster_name"),
    }
    if spec.target_group_id is not None:
        body["targetProjectId"] = validate_object_id(spec.target_group_id, "target_group_id")
    return body


def _page_params(page_num: int, items_per_page: int) -> dict[str, str]:
    return {
        "pageNum": str(validate_int_range(page_num, "page_num", 1)),
        "itemsPerPage": str(validate_int_range(items_per_page, "items_per_page", 1, MAX_ITEMS_PER_PAGE)),
        "includeCount": "true",
    }


class FlexBackupRequests:
    """The flex-cluster requests of :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests`."""

    if TYPE_CHECKING:
        api_version: str
        prefix: str

        def _request(
            self,
            method: str,
            path: str,
            *,
            params: Mapping[str, str] | None = None,
            json_body: Any = None,
            envelope: bool = False,
            pretty: bool = False,
            v2_media_type: str | None = None,
        ) -> ApiRequest: ...

    def _flex_path(self, group_id: str, name: str) -> str:
        """Return ``/groups/{groupId}/flexClusters/{name}``, ids checked; refused below v2."""
        group = quote(validate_object_id(group_id, "group_id"), safe="")
        cluster = quote(validate_cluster_name(name), safe="")
        if self.api_version != "v2":
            raise AtlasInputError(
                f"Cluster {name} is a flex cluster, and Atlas serves flex clusters only through API v2: "
                f"set the connection's api_version extra to v2 (it is {self.api_version})."
            )
        return f"/groups/{group}/flexClusters/{cluster}"

    def _flex(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> ApiRequest:
        return self._request(method, path, params=params, json_body=json_body, v2_media_type=MEDIA_TYPE_FLEX)

    def flex_restore_jobs_path(self, group_id: str, name: str) -> str:
        """
        Return the full path of a flex cluster's restore jobs (what a listing's errors name).

        :param group_id: the project id.
        :param name: the flex cluster's name.
        """
        return self.prefix + self._flex_path(group_id, name) + "/backup/restoreJobs"

    def flex_snapshots_path(self, group_id: str, name: str) -> str:
        """
        Return the full path of a flex cluster's snapshots (what a listing's errors name).

        :param group_id: the project id.
        :param name: the flex cluster's name.
        """
        return self.prefix + self._flex_path(group_id, name) + "/backup/snapshots"

    def get_flex_cluster_request(self, group_id: str, name: str) -> ApiRequest:
        """
        Build ``GET /groups/{groupId}/flexClusters/{name}``: the flex cluster.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        """
        return self._flex("GET", self._flex_path(group_id, name))

    def list_flex_restore_jobs_request(
        self, group_id: str, name: str, page_num: int = 1, items_per_page: int = DEFAULT_ITEMS_PER_PAGE
    ) -> ApiRequest:
        """
        Build ``GET .../flexClusters/{name}/backup/restoreJobs``: one page of restore jobs, newest first.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        """
        path = self._flex_path(group_id, name) + "/backup/restoreJobs"
        return self._flex("GET", path, params=_page_params(page_num, items_per_page))

    def get_flex_restore_job_request(self, group_id: str, name: str, restore_job_id: str) -> ApiRequest:
        """
        Build ``GET .../flexClusters/{name}/backup/restoreJobs/{restoreJobId}``: one restore job.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        :param restore_job_id: the restore job id.
        """
        job = quote(validate_object_id(restore_job_id, "restore_job_id"), safe="")
        return self._flex("GET", self._flex_path(group_id, name) + f"/backup/restoreJobs/{job}")

    def create_flex_restore_job_request(
        self, group_id: str, name: str, body: Mapping[str, Any]
    ) -> ApiRequest:
        """
        Build ``POST .../flexClusters/{name}/backup/restoreJobs``: start a restore (200 with the job).

        :param group_id: the project id.
        :param name: the flex cluster whose snapshot is restored.
        :param body: the job, as built by :func:`flex_restore_job_body`.
        """
        path = self._flex_path(group_id, name) + "/backup/restoreJobs"
        return self._flex("POST", path, json_body=dict(body))

    def list_flex_snapshots_request(
        self, group_id: str, name: str, page_num: int = 1, items_per_page: int = DEFAULT_ITEMS_PER_PAGE
    ) -> ApiRequest:
        """
        Build ``GET .../flexClusters/{name}/backup/snapshots``: one page of snapshots, oldest first.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        """
        path = self._flex_path(group_id, name) + "/backup/snapshots"
        return self._flex("GET", path, params=_page_params(page_num, items_per_page))

    def get_flex_snapshot_request(self, group_id: str, name: str, snapshot_id: str) -> ApiRequest:
        """
        Build ``GET .../flexClusters/{name}/backup/snapshots/{snapshotId}``: one snapshot.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        :param snapshot_id: the snapshot id.
        """
        snapshot = quote(validate_object_id(snapshot_id, "snapshot_id"), safe="")
        return self._flex("GET", self._flex_path(group_id, name) + f"/backup/snapshots/{snapshot}")

    def download_flex_snapshot_request(self, group_id: str, name: str, snapshot_id: str) -> ApiRequest:
        """
        Build ``POST .../flexClusters/{name}/backup/download``: a ``snapshotUrl`` valid four hours.

        :param group_id: the project id.
        :param name: the flex cluster's name.
        :param snapshot_id: the snapshot to download.
        """
        body = {"snapshotId": validate_object_id(snapshot_id, "snapshot_id")}
        return self._flex("POST", self._flex_path(group_id, name) + "/backup/download", json_body=body)
