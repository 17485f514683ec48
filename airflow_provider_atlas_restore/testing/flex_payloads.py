"""Render flex clusters, flex snapshots and flex restore jobs as Atlas sends them (version 2024-11-13).

Shapes follow ``recorded/v2-flexcluster-get.json``, ``v2-flex-list-snapshots.json`` and
``v2-flex-get-restore-*.json``; like the real answers they carry no ``links`` (the spec lists
them, none is required). A flex cluster the cluster API still serves (the spec: created through
it, or migrated from M2/M5, until January 2026) is described there in the spec's own terms:
``providerSettings`` of ``ClusterFlexProviderSettings`` in 2023-01-01, a ``TENANT`` region
whose ``electableSpecs.effectiveInstanceSize`` is ``FLEX`` in 2024-08-05.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.flex_records import (
    FLEX_ROUTE_NAMES,
    RESTORE_EXPIRATION_SECONDS,
    SNAPSHOT_RETENTION_SECONDS,
    SNAPSHOT_START_SECONDS,
    FlexCluster,
    FlexRestoreJob,
    FlexSnapshot,
    FlexSnapshotLink,
)
from airflow_provider_atlas_restore.testing.payloads import V2_MEDIA_TYPE, View

__all__ = [
    "FLEX_CONTENT_TYPE",
    "FLEX_MEDIA_TYPE",
    "FLEX_VERSIONED_ROUTES",
    "flex_snapshot_url",
    "render_flex_cluster",
    "render_flex_cluster_in_cluster_api",
    "render_flex_job",
    "render_flex_snapshot",
]

FLEX_MEDIA_TYPE = "application/vnd.atlas.2024-11-13+json"
FLEX_CONTENT_TYPE = f"{FLEX_MEDIA_TYPE};charset=utf-8"
#: The only version each flex API route answers (the file route is no API route).
FLEX_VERSIONED_ROUTES: dict[str, tuple[str, ...]] = {
    route: (FLEX_MEDIA_TYPE,) for route in FLEX_ROUTE_NAMES if route != "flex_snapshot_file"
}
_REGION = "US_EAST_1"
_BACKING_PROVIDER = "AWS"


def flex_snapshot_url(base_url: str, link: FlexSnapshotLink) -> str:
    """Return the absolute ``snapshotUrl`` of a link: ``{base}/backup/flex/{token}/{snapshotId}.tgz``.

    :param base_url: emulator base URL.
    :param link: the link.
    """
    return f"{base_url}/backup/flex/{link.token}/{link.filename}"


def render_flex_cluster(cluster: FlexCluster, view: View) -> dict[str, Any]:
    """Render a flex cluster (``FlexClusterDescription20241113``) like the recorded answer.

    :param cluster: the flex cluster.
    :param view: rendering context.
    """
    host = f"{cluster.name.lower()}.emulator.mongodb-dev.net"
    return {
        "backupSettings": {"enabled": True},
        "clusterType": "REPLICASET",
        "connectionStrings": {
            "standard": f"mongodb://{host}:27017/?ssl=true&authSource=admin",
            "standardSrv": f"mongodb+srv://{host}",
        },
        "createDate": iso_utc(cluster.created_at),
        "groupId": cluster.group_id,
        "id": cluster.id,
        "mongoDBVersion": "8.0.29",
        "name": cluster.name,
        "providerSettings": {
            "backingProviderName": _BACKING_PROVIDER,
            "diskSizeGB": 5.0,
            "providerName": "FLEX",
            "regionName": _REGION,
        },
        "stateName": "IDLE",
        "tags": [],
        "terminationProtectionEnabled": False,
        "versionReleaseSystem": "LTS",
    }


def render_flex_cluster_in_cluster_api(cluster: FlexCluster, view: View, media_type: str) -> dict[str, Any]:
    """Render a flex cluster as ``GET /clusters/{name}`` describes one it still serves.

    :param cluster: the flex cluster (``served_by_cluster_api``).
    :param view: rendering context.
    :param media_type: the version negotiated (2024-08-05 or the sunset 2023-01-01).
    """
    url = f"{view.api_root}/groups/{cluster.group_id}/clusters/{cluster.name}"
    body: dict[str, Any] = {
        "backupEnabled": True,
        "clusterType": "REPLICASET",
        "createDate": iso_utc(cluster.created_at),
        "groupId": cluster.group_id,
        "id": cluster.id,
        "links": [{"href": url, "rel": "self"}],
        "mongoDBMajorVersion": "8.0",
        "mongoDBVersion": "8.0.29",
        "name": cluster.name,
        "paused": False,
        "pitEnabled": False,
        "stateName": "IDLE",
    }
    if media_type == V2_MEDIA_TYPE:
        body["providerSettings"] = {
            "backingProviderName": _BACKING_PROVIDER,
            "instanceSizeName": "FLEX",
            "providerName": "FLEX",
            "regionName": _REGION,
        }
    else:
        region = {
            "backingProviderName": _BACKING_PROVIDER,
            "electableSpecs": {"effectiveInstanceSize": "FLEX", "instanceSize": "M5"},
            "priority": 7,
            "providerName": "TENANT",
            "regionName": _REGION,
        }
        body["replicationSpecs"] = [{"regionConfigs": [region], "zoneName": "Zone 1"}]
    return body


def render_flex_snapshot(snap: FlexSnapshot, view: View) -> dict[str, Any]:
    """Render a flex snapshot (``FlexBackupSnapshot20241113``) like the recorded list.

    ``startTime`` appears once it is RUNNING or later, ``finishTime`` once COMPLETED or FAILED.

    :param snap: the snapshot.
    :param view: rendering context.
    """
    body: dict[str, Any] = {
        "expiration": iso_utc(snap.scheduled_at + SNAPSHOT_RETENTION_SECONDS),
        "id": snap.id,
        "mongoDBVersion": snap.mongodb_version,
        "scheduledTime": iso_utc(snap.scheduled_at),
        "status": snap.status,
    }
    if snap.status in ("RUNNING", "COMPLETED", "FAILED"):
        body["startTime"] = iso_utc(snap.scheduled_at + SNAPSHOT_START_SECONDS)
    if snap.status in ("COMPLETED", "FAILED"):
        body["finishTime"] = iso_utc(snap.finished_at)
    return dict(sorted(body.items()))


def render_flex_job(job: FlexRestoreJob, view: View, as_created: bool = False) -> dict[str, Any]:
    """Render a flex restore job (``FlexBackupRestoreJob20241113``) like the recorded answers.

    :param job: the job.
    :param view: rendering context.
    :param as_created: render what a create answer shows (PENDING, whatever ``ready_after``).
    """
    status = "PENDING" if as_created and job.link is None else job.status(view.now)
    body: dict[str, Any] = {
        "deliveryType": job.delivery_type,
        "expirationDate": iso_utc(job.created_at + RESTORE_EXPIRATION_SECONDS),
        "id": job.id,
        "instanceName": job.cluster_name,
        "projectId": job.group_id,
        "restoreScheduledDate": iso_utc(job.created_at),
        "snapshotFinishedDate": iso_utc(job.snapshot_finished_at),
        "snapshotId": job.snapshot_id,
        "status": status,
    }
    if status == "COMPLETED":
        body["restoreFinishedDate"] = iso_utc(job.ready_at)
    if job.target_deployment_item_name is not None:
        body["targetDeploymentItemName"] = job.target_deployment_item_name
    if job.target_project_id is not None:
        body["targetProjectId"] = job.target_project_id
    if job.link is not None:
        body["expirationDate"] = iso_utc(job.link.expires_at)
        if view.now < job.link.expires_at:
            body["snapshotUrl"] = flex_snapshot_url(view.base_url, job.link)
    return dict(sorted(body.items()))
