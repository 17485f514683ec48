"""Render emulator state as the JSON Atlas sends: restore jobs, snapshots, projects, pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.records import (
    Cluster,
    Project,
    ServedDownload,
    Snapshot,
    StoredRestoreJob,
)

__all__ = [
    "V1_CONTENT_TYPE",
    "V2_CONTENT_TYPE",
    "V2_MEDIA_TYPE",
    "View",
    "download_url",
    "render_job",
    "render_page",
    "render_project",
    "render_snapshot",
]

V2_MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
V2_CONTENT_TYPE = f"{V2_MEDIA_TYPE};charset=utf-8"
V1_CONTENT_TYPE = "application/json"
_REL_BASE = {"v2": "https://cloud.mongodb.com", "v1.0": "http://mms.mongodb.com"}


@dataclass(frozen=True)
class View:
    """How to render: server base URL, API version (``v2`` or ``v1.0``) and clock time."""

    base_url: str
    version: str
    now: float

    @property
    def api_root(self) -> str:
        """``{base_url}/api/atlas/{version}``."""
        return f"{self.base_url}/api/atlas/{self.version}"

    def rel(self, name: str) -> str:
        """Link relation URL for ``name`` (``snapshot``, ``cluster``, ``group``).

        :param name: relation name.
        """
        return f"{_REL_BASE[self.version]}/{name}"


def _link(href: str, rel: str) -> dict[str, str]:
    return {"href": href, "rel": rel}


def download_url(base_url: str, link: ServedDownload) -> str:
    """Return the absolute URL of a download link (under ``/backup/private/{endpoint}`` for a private one).

    :param base_url: emulator base URL.
    :param link: the link.
    """
    if link.endpoint_id is not None:
        return f"{base_url}/backup/private/{link.endpoint_id}/{link.token}/{link.filename}"
    return f"{base_url}/backup/download/{link.token}/{link.filename}"


def _private_entries(base_url: str, links: list[ServedDownload]) -> list[dict[str, str]]:
    """Render ``privateDownloadDeliveryUrls`` entries: unused private links, endpoint by endpoint."""
    return [
        {"deliveryUrl": download_url(base_url, link), "endpointId": str(link.endpoint_id)}
        for link in links
        if not link.used
    ]


def render_job(job: StoredRestoreJob, view: View, as_created: bool = False) -> dict[str, Any]:
    """Render a restore job like ``recorded/v2-get-download-*.json``.

    :param job: the job.
    :param view: rendering context.
    :param as_created: render the state a create answer shows (always pending).
    """
    state = "pending" if as_created else job.state(view.now)
    group_url = f"{view.api_root}/groups/{job.group_id}"
    cluster_url = f"{group_url}/clusters/{job.cluster_name}"
    body: dict[str, Any] = {
        "cancelled": state == "cancelled",
        "deliveryType": job.delivery_type,
        "deliveryUrl": [],
        # Real answers carry an all-null desiredTimestamp (the spec types it otherwise).
        "desiredTimestamp": {"increment": None, "time": None, "date": None},
        "expired": state == "expired",
        "failed": state == "failed",
        "id": job.id,
        "links": [
            _link(f"{cluster_url}/backup/restoreJobs/{job.id}", "self"),
            _link(f"{cluster_url}/backup/snapshots/{job.snapshot_id}", view.rel("snapshot")),
            _link(cluster_url, view.rel("cluster")),
            _link(group_url, view.rel("group")),
        ],
        "snapshotId": job.snapshot_id,
        "timestamp": iso_utc(job.snapshot_time),
    }
    if view.version == "v1.0":
        body["createdAt"] = iso_utc(job.created_at)
    was_ready = not as_created and view.now >= job.ready_at and not job.cancelled
    if job.delivery_type == "download":
        if state == "ready":
            body["deliveryUrl"] = [download_url(view.base_url, link) for link in job.links]
            if job.private_links:
                body["privateDownloadDeliveryUrls"] = _private_entries(view.base_url, job.private_links)
        if was_ready and state in ("ready", "expired"):
            body["expiresAt"] = iso_utc(job.ready_at + job.url_ttl)
        if job.sharded:
            body["components"] = [_component(job, link, view, state == "ready") for link in job.links]
    else:
        body["targetClusterName"] = job.target_cluster_name
        body["targetDeploymentItemName"] = job.target_deployment_item_name
        body["targetGroupId"] = job.target_group_id
        if state == "finished":
            body["finishedAt"] = iso_utc(job.ready_at)
        if job.point_in_time_utc_seconds is not None:
            body["pointInTimeUTCSeconds"] = job.point_in_time_utc_seconds
        if job.oplog_ts is not None:
            body["oplogTs"] = job.oplog_ts
            body["oplogInc"] = job.oplog_inc
    body.update(job.extra)
    return dict(sorted(body.items()))


def _component(job: StoredRestoreJob, link: ServedDownload, view: View, ready: bool) -> dict[str, Any]:
    """Render one ``components[]`` entry of a sharded download job, with its private links when ready."""
    component: dict[str, Any] = {
        "downloadUrl": download_url(view.base_url, link) if ready and not link.used else None,
        "replicaSetName": link.replica_set_name,
    }
    own = [private for private in job.private_links if private.replica_set_name == link.replica_set_name]
    if ready and own:
        component["privateDownloadDeliveryUrls"] = _private_entries(view.base_url, own)
    return component


def render_snapshot(snap: Snapshot, view: View) -> dict[str, Any]:
    """Render a replica-set (``DiskBackupReplicaSet``) or sharded snapshot.

    :param snap: the snapshot.
    :param view: rendering context.
    """
    cluster_url = f"{view.api_root}/groups/{snap.group_id}/clusters/{snap.cluster_name}"
    segment = "snapshots/shardedCluster" if snap.sharded else "snapshots"
    self_url = f"{cluster_url}/backup/{segment}/{snap.id}"
    body: dict[str, Any] = {
        "createdAt": iso_utc(snap.created_at),
        "expiresAt": iso_utc(snap.created_at + snap.retention_seconds),
        "frequencyType": snap.frequency_type,
        "id": snap.id,
        "links": [_link(self_url, "self")],
        "mongodVersion": snap.mongod_version,
        "policyItems": [snap.policy_item_id],
        "snapshotType": snap.snapshot_type,
        "status": snap.status,
        "storageSizeBytes": snap.size_bytes,
        "type": "shardedCluster" if snap.sharded else "replicaSet",
    }
    if snap.description is not None:
        body["description"] = snap.description
    if snap.sharded:
        body["configServerType"] = "DEDICATED"
        body["members"] = [
            {"cloudProvider": "AWS", "id": member_id, "replicaSetName": rs} for rs, member_id in snap.members
        ]
        body["snapshotIds"] = [member_id for _, member_id in snap.members]
    else:
        body["cloudProvider"] = "AWS"
        body["copyRegions"] = []
        body["replicaSetName"] = snap.replica_set_name
    return dict(sorted(body.items()))


def render_project(project: Project, view: View) -> dict[str, Any]:
    """Render a project (``Group``).

    :param project: the project.
    :param view: rendering context.
    """
    return {
        "clusterCount": len(project.clusters),
        "created": iso_utc(project.created),
        "id": project.id,
        "links": [_link(f"{view.api_root}/groups/{project.id}", "self")],
        "name": project.name,
        "orgId": project.org_id,
        "tags": [],
        "withDefaultAlertsSettings": True,
    }


def render_page(
    results: list[dict[str, Any]],
    *,
    view: View,
    resource_path: str,
    page_num: int,
    items_per_page: int,
    total: int,
    include_count: bool,
    keep: dict[str, str],
) -> dict[str, Any]:
    """Render one page: ``links`` (``self``, and ``next`` unless last), ``results``, ``totalCount``.

    :param results: rendered items of this page.
    :param view: rendering context.
    :param resource_path: path below the API root, e.g. ``/groups/{id}/clusters/c/backup/restoreJobs``.
    :param page_num: 1-based page number.
    :param items_per_page: page size.
    :param total: number of items on all pages.
    :param include_count: add ``totalCount``.
    :param keep: other query parameters to repeat in the links (``envelope``, ``pretty``).
    """

    def url(page: int) -> str:
        query = {
            "includeCount": "true" if include_count else "false",
            "pageNum": str(page),
            "itemsPerPage": str(items_per_page),
            **keep,
        }
        return f"{view.api_root}{resource_path}?{urlencode(query)}"

    links = [_link(url(page_num), "self")]
    if page_num * items_per_page < total:
        links.append(_link(url(page_num + 1), "next"))
    page: dict[str, Any] = {"links": links, "results": results}
    if include_count:
        page["totalCount"] = total
    return page


def cluster_resource(cluster: Cluster) -> str:
    """Return ``/groups/{groupId}/clusters/{name}`` for a cluster.

    :param cluster: the cluster.
    """
    return f"/groups/{cluster.group_id}/clusters/{cluster.name}"
