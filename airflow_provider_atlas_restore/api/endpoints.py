"""
How requests to the Atlas Administration API are built: paths, media types, query parameters.

The one place that knows them. The sync hook (``requests``) and the async client (``httpx``)
both send what it builds and read the answers with
:mod:`airflow_provider_atlas_restore.api.responses`, so the two never drift apart.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_atlas_restore.api.backup_requests import BackupRequests
from airflow_provider_atlas_restore.api.flex_endpoints import FlexBackupRequests
from airflow_provider_atlas_restore.api.validation import (
    API_VERSIONS,
    MAX_ITEMS_PER_PAGE,
    validate_choice,
    validate_cluster_name,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.api.validation import DEFAULT_ITEMS_PER_PAGE as DEFAULT_ITEMS_PER_PAGE

MEDIA_TYPE_V2 = "application/vnd.atlas.2023-01-01+json"
MEDIA_TYPE_V1 = "application/json"
#: The v2 resource version asked for where 2023-01-01 is sunset (the cluster and its backup
#: schedule, ``x-sunset: 2027-07-01`` in the spec): both answer this version too.
MEDIA_TYPE_V2_2024_08_05 = "application/vnd.atlas.2024-08-05+json"


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ApiRequest:
    """
    One request to the Atlas Administration API, independent of the HTTP client that sends it.

    :param method: HTTP method.
    :param path: URL path below the base URL, already quoted.
    :param params: query parameters, as strings.
    :param headers: headers to send (``Accept`` and, with a body, ``Content-Type``).
    :param json_body: the JSON body, or ``None``.
    :param envelope: whether the answer comes wrapped in an envelope to remove.
    :param form_body: a form-encoded body (the OAuth token request), instead of JSON.
    """

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json_body: Any = None
    envelope: bool = False
    form_body: Mapping[str, str] | None = None

    def url(self, base_url: str) -> str:
        """Return the full URL of this request below ``base_url``."""
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{base_url.rstrip('/')}{self.path}{query}"

    @property
    def content(self) -> bytes | None:
        """Return the encoded body, or ``None`` when there is none."""
        if self.form_body is not None:
            return urlencode(self.form_body).encode()
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, separators=(",", ":")).encode()


def _snapshots_suffix(sharded: bool) -> str:
    return "/backup/snapshots/shardedClusters" if sharded else "/backup/snapshots"


class AtlasRequests(FlexBackupRequests, BackupRequests):
    """
    Builds validated requests for one version of the Atlas Administration API.

    The flex-cluster backup requests come from :class:`~.flex_endpoints.FlexBackupRequests`.

    :param api_version: ``v2`` (default) or the deprecated ``v1.0``.
    """

    def __init__(self, api_version: str = "v2") -> None:
        self.api_version = validate_choice(api_version, "api_version", API_VERSIONS)
        self.media_type = MEDIA_TYPE_V2 if self.api_version == "v2" else MEDIA_TYPE_V1
        self.prefix = f"/api/atlas/{self.api_version}"

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
    ) -> ApiRequest:
        query = dict(params or {})
        if envelope:
            query["envelope"] = "true"
        if pretty:
            query["pretty"] = "true"
        media_type = v2_media_type if v2_media_type and self.api_version == "v2" else self.media_type
        headers = {"Accept": media_type}
        if json_body is not None:
            headers["Content-Type"] = media_type
        return ApiRequest(
            method=method,
            path=self.prefix + path,
            params=query,
            headers=headers,
            json_body=json_body,
            envelope=envelope,
        )

    @staticmethod
    def _cluster_path(group_id: str, cluster_name: str) -> str:
        group = quote(validate_object_id(group_id, "group_id"), safe="")
        cluster = quote(validate_cluster_name(cluster_name), safe="")
        return f"/groups/{group}/clusters/{cluster}"

    def get_project_request(self, group_id: str) -> ApiRequest:
        """
        Build ``GET /groups/{groupId}``: the project, used to test a connection.

        :param group_id: the project id.
        """
        return self._request("GET", f"/groups/{quote(validate_object_id(group_id, 'group_id'), safe='')}")

    def list_projects_request(
        self, *, page_num: int = 1, items_per_page: int = DEFAULT_ITEMS_PER_PAGE
    ) -> ApiRequest:
        """
        Build ``GET /groups``: one page of the projects the key can see, used to test a connection.

        :param page_num: the page, from 1.
        :param items_per_page: projects per page, 1 to 500.
        """
        params = {
            "pageNum": str(validate_int_range(page_num, "page_num", 1)),
            "itemsPerPage": str(validate_int_range(items_per_page, "items_per_page", 1, MAX_ITEMS_PER_PAGE)),
            "includeCount": "true",
        }
        return self._request("GET", "/groups", params=params)

    def restore_jobs_path(self, group_id: str, cluster_name: str) -> str:
        """
        Return the full path of a cluster's restore jobs (what a listing's errors name).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        """
        return self.prefix + self._cluster_path(group_id, cluster_name) + "/backup/restoreJobs"

    def list_restore_jobs_request(
        self,
        group_id: str,
        cluster_name: str,
        *,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
        include_count: bool = True,
        pretty: bool = False,
        envelope: bool = False,
    ) -> ApiRequest:
        """
        Build ``GET .../backup/restoreJobs``: one page of a cluster's restore jobs, newest first.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        :param include_count: ask for ``totalCount``.
        :param pretty: ask for indented JSON.
        :param envelope: ask for an enveloped answer (removed again by :func:`parse_response`).
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/restoreJobs"
        params = {
            "pageNum": str(validate_int_range(page_num, "page_num", 1)),
            "itemsPerPage": str(validate_int_range(items_per_page, "items_per_page", 1, MAX_ITEMS_PER_PAGE)),
            "includeCount": _flag(include_count),
        }
        return self._request("GET", path, params=params, envelope=envelope, pretty=pretty)

    def get_restore_job_request(
        self,
        group_id: str,
        cluster_name: str,
        restore_job_id: str,
        *,
        pretty: bool = False,
        envelope: bool = False,
    ) -> ApiRequest:
        """
        Build ``GET .../backup/restoreJobs/{restoreJobId}``: one restore job.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param pretty: ask for indented JSON.
        :param envelope: ask for an enveloped answer (removed again by :func:`parse_response`).
        """
        job = quote(validate_object_id(restore_job_id, "restore_job_id"), safe="")
        path = self._cluster_path(group_id, cluster_name) + f"/backup/restoreJobs/{job}"
        return self._request("GET", path, envelope=envelope, pretty=pretty)

    def create_restore_job_request(
        self, group_id: str, cluster_name: str, body: Mapping[str, Any], *, envelope: bool = False
    ) -> ApiRequest:
        """
        Build ``POST .../backup/restoreJobs``: start a restore (Atlas answers 200 with the job).

        :param group_id: the project id.
        :param cluster_name: the cluster whose snapshot is restored.
        :param body: the job, as built by
            :func:`~airflow_provider_atlas_restore.api.bodies.build_restore_job_body`.
        :param envelope: ask for an enveloped answer (removed again by :func:`parse_response`).
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/restoreJobs"
        return self._request("POST", path, json_body=dict(body), envelope=envelope)

    def cancel_restore_job_request(self, group_id: str, cluster_name: str, restore_job_id: str) -> ApiRequest:
        """
        Build ``DELETE .../backup/restoreJobs/{restoreJobId}``: cancel a job (204; 405 if refused).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        """
        job = quote(validate_object_id(restore_job_id, "restore_job_id"), safe="")
        path = self._cluster_path(group_id, cluster_name) + f"/backup/restoreJobs/{job}"
        return self._request("DELETE", path)

    def snapshots_path(self, group_id: str, cluster_name: str, *, sharded: bool = False) -> str:
        """
        Return the full path of a cluster's snapshots (what a listing's errors name).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param sharded: a sharded cluster's snapshots.
        """
        return self.prefix + self._cluster_path(group_id, cluster_name) + _snapshots_suffix(sharded)

    def list_snapshots_request(
        self,
        group_id: str,
        cluster_name: str,
        *,
        sharded: bool = False,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
        include_count: bool = True,
    ) -> ApiRequest:
        """
        Build ``GET .../backup/snapshots`` (or ``.../snapshots/shardedClusters``): one page, newest first.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param sharded: list a sharded cluster's snapshots.
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        :param include_count: ask for ``totalCount``.
        """
        suffix = _snapshots_suffix(sharded)
        params = {
            "pageNum": str(validate_int_range(page_num, "page_num", 1)),
            "itemsPerPage": str(validate_int_range(items_per_page, "items_per_page", 1, MAX_ITEMS_PER_PAGE)),
            "includeCount": _flag(include_count),
        }
        return self._request("GET", self._cluster_path(group_id, cluster_name) + suffix, params=params)

    def get_snapshot_request(
        self, group_id: str, cluster_name: str, snapshot_id: str, *, sharded: bool = False
    ) -> ApiRequest:
        """
        Build ``GET .../backup/snapshots/{id}`` (or ``.../snapshots/shardedCluster/{id}``).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param sharded: the snapshot is a sharded cluster's.
        """
        snapshot = quote(validate_object_id(snapshot_id, "snapshot_id"), safe="")
        segment = "snapshots/shardedCluster" if sharded else "snapshots"
        return self._request(
            "GET", self._cluster_path(group_id, cluster_name) + f"/backup/{segment}/{snapshot}"
        )

    def get_cluster_request(self, group_id: str, cluster_name: str) -> ApiRequest:
        """
        Build ``GET /groups/{groupId}/clusters/{clusterName}``: the cluster, with ``pitEnabled``.

        Asks for resource version 2024-08-05 on v2 (2023-01-01 is sunset for this resource).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        """
        return self._request(
            "GET", self._cluster_path(group_id, cluster_name), v2_media_type=MEDIA_TYPE_V2_2024_08_05
        )

    def get_backup_schedule_request(self, group_id: str, cluster_name: str) -> ApiRequest:
        """
        Build ``GET .../backup/schedule``: the cluster's backup policy, with ``restoreWindowDays``.

        Asks for resource version 2024-08-05 on v2 (2023-01-01 is sunset for this resource).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/schedule"
        return self._request("GET", path, v2_media_type=MEDIA_TYPE_V2_2024_08_05)


class AtlasApi(AtlasRequests):
    """
    Deprecated: the former name of :class:`AtlasRequests`, with its former method names, for one release.

    :param api_version: ``v2`` (default) or the deprecated ``v1.0``.
    """

    def __init__(self, api_version: str = "v2") -> None:
        import warnings

        warnings.warn(
            "AtlasApi is deprecated: use AtlasRequests, whose methods end in _request "
            "(AtlasApi().get_restore_job() is AtlasRequests().get_restore_job_request()).",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(api_version)

    def __getattr__(self, name: str) -> Any:
        """
        Return the renamed builder for a former method name, such as ``get_restore_job``.

        :param name: the attribute asked for.
        """
        if name in _FORMER_NAMES:
            return getattr(self, f"{name}_request")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


#: The builder methods' names before they ended in ``_request``.
_FORMER_NAMES = frozenset(
    {
        "get_project",
        "list_projects",
        "list_restore_jobs",
        "get_restore_job",
        "create_restore_job",
        "cancel_restore_job",
        "list_snapshots",
        "get_snapshot",
    }
)

OAUTH_TOKEN_PATH = "/api/oauth/token"


def oauth_token_request(client_id: str, client_secret: str) -> ApiRequest:
    """
    Build ``POST /api/oauth/token``: a service account's bearer token (OAuth client credentials).

    :param client_id: the service account's client id.
    :param client_secret: its secret; it travels only in the Basic ``Authorization`` header.
    """
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return ApiRequest(
        method="POST",
        path=OAUTH_TOKEN_PATH,
        headers={
            "Accept": MEDIA_TYPE_V1,
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        form_body={"grant_type": "client_credentials"},
    )
