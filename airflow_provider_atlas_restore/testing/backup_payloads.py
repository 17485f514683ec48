"""Render on-demand snapshots, export buckets, export jobs and collection restores as Atlas sends them.

Shapes follow ``recorded/v2-snapshot-*``, ``v2-export-create`` and ``v2-exportbucket-*``; the
collection restore shapes are the spec's (nothing is recorded). Export jobs and buckets carry
no ``links``, as recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.testing.backup_records import (
    ExportBucket,
    OnDemandSnapshot,
    RestoredCollection,
    StoredCollectionRestoreJob,
    StoredExportJob,
)
from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.payloads import V2_MEDIA_TYPE, render_snapshot

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.payloads import View
    from airflow_provider_atlas_restore.testing.records import Snapshot

__all__ = [
    "BACKUP_VERSIONED_ROUTES",
    "MEDIA_TYPE_2024_05_30",
    "MEDIA_TYPE_2025_03_12",
    "render_any_snapshot",
    "render_bucket",
    "render_collection_restore_job",
    "render_export_job",
    "render_on_demand_snapshot",
    "render_restored_collection",
]


MEDIA_TYPE_2024_05_30 = "application/vnd.atlas.2024-05-30+json"
MEDIA_TYPE_2025_03_12 = "application/vnd.atlas.2025-03-12+json"
_BUCKET_ROUTES = ("list_export_buckets", "create_export_bucket", "get_export_bucket")
_COLLECTION_RESTORE_ROUTES = (
    *("list_collection_restore_jobs", "create_collection_restore_job", "get_collection_restore_job"),
    *("list_restored_collections", "get_restored_collection"),
)
#: The v2 media types of these routes, preferred first (registered in ``cluster_payloads.VERSIONED_ROUTES``):
#: buckets 2024-05-30 or the sunset 2023-01-01; collection restores 2025-03-12 only.
BACKUP_VERSIONED_ROUTES: dict[str, tuple[str, ...]] = {
    **{route: (MEDIA_TYPE_2024_05_30, V2_MEDIA_TYPE) for route in _BUCKET_ROUTES},
    **{route: (MEDIA_TYPE_2025_03_12,) for route in _COLLECTION_RESTORE_ROUTES},
}


def _link(href: str, rel: str) -> dict[str, str]:
    return {"href": href, "rel": rel}


def render_any_snapshot(snap: Snapshot, view: View) -> dict[str, Any]:
    """Render a snapshot: an on-demand one as recorded, a scheduled one as :func:`~.payloads.render_snapshot`.

    :param snap: the snapshot (settled to ``view.now``).
    :param view: rendering context.
    """
    if isinstance(snap, OnDemandSnapshot):
        return render_on_demand_snapshot(snap, view)
    return render_snapshot(snap, view)


def render_on_demand_snapshot(snap: OnDemandSnapshot, view: View) -> dict[str, Any]:
    """Render an on-demand snapshot as recorded: no ``createdAt`` and size 0 until completed.

    ``mongodVersion`` appears half-way through ``inProgress``, ``cloudProvider`` once completed.

    :param snap: the snapshot (settled to ``view.now``).
    :param view: rendering context.
    """
    cluster_url = f"{view.api_root}/groups/{snap.group_id}/clusters/{snap.cluster_name}"
    segment = "snapshots/shardedCluster" if snap.sharded else "snapshots"
    completed = snap.status == "completed"
    body: dict[str, Any] = {
        "expiresAt": iso_utc(snap.expires_at()),
        "frequencyType": "ondemand",
        "id": snap.id,
        "links": [
            _link(f"{cluster_url}/backup/{segment}/{snap.id}", "self"),
            _link(cluster_url, view.rel("cluster")),
        ],
        "policyItems": [],
        "snapshotType": "onDemand",
        "status": snap.status,
        "storageSizeBytes": snap.size_bytes,
        "type": "shardedCluster" if snap.sharded else "replicaSet",
    }
    if snap.description is not None:
        body["description"] = snap.description
    if completed:
        body["createdAt"] = iso_utc(snap.started_at)
    half_way = snap.status == "inProgress" and view.now >= snap.started_at + snap.in_progress_seconds / 2
    if completed or half_way:
        body["mongodVersion"] = snap.mongod_version
    if snap.sharded:
        body["members"] = [
            {"cloudProvider": "AWS", "id": member_id, "replicaSetName": rs} for rs, member_id in snap.members
        ]
        body["snapshotIds"] = [member_id for _, member_id in snap.members]
    else:
        body["copyRegions"] = []
        body["replicaSetName"] = snap.replica_set_name
        if completed:
            body["cloudProvider"] = "AWS"
    return dict(sorted(body.items()))


def render_bucket(bucket: ExportBucket, *, with_region: bool = False) -> dict[str, Any]:
    """Render an export bucket: ``_id``, not ``id``; ``region`` only on the GET of one (AWS).

    :param bucket: the bucket.
    :param with_region: add ``region`` (the GET of one bucket).
    """
    body: dict[str, Any] = {
        "_id": bucket.id,
        "bucketName": bucket.bucket_name,
        "cloudProvider": bucket.cloud_provider,
    }
    if bucket.cloud_provider == "AWS":
        body["iamRoleId"] = bucket.role_id
        body["requirePrivateNetworking"] = bucket.require_private_networking
        if with_region:
            body["region"] = bucket.region
    else:
        body["roleId"] = bucket.role_id
    if bucket.cloud_provider == "AZURE":
        body["serviceUrl"] = bucket.service_url
        body["tenantId"] = bucket.tenant_id
    return body


def render_export_job(job: StoredExportJob, view: View) -> dict[str, Any]:
    """Render an export job as recorded: ``exportStatus`` stays 0/0, ``finishedAt`` once done.

    :param job: the export job.
    :param view: rendering context.
    """
    state = job.state(view.now)
    body: dict[str, Any] = {
        "createdAt": iso_utc(job.created_at),
        "customData": [dict(item) for item in job.custom_data],
        "exportBucketId": job.export_bucket_id,
        "exportStatus": {"exportedCollections": 0, "totalCollections": 0},
        "id": job.id,
        "prefix": job.prefix,
        "snapshotId": job.snapshot_id,
        "state": state,
    }
    finished = job.finished_at(view.now)
    if finished is not None:
        body["finishedAt"] = iso_utc(finished)
    if job.components:
        body["components"] = [
            {"exportId": export_id, "replicaSetName": rs} for rs, export_id in job.components
        ]
    if state in ("Failed", "Cancelled") and job.state_reason:
        body["stateReason"] = dict(job.state_reason)
    return dict(sorted(body.items()))


def _index_state(job: StoredCollectionRestoreJob, state: str) -> str:
    if job.request.get("indexStrategy") == "NONE":
        return "NOT_RESTORED"
    return {
        "INITIALIZING": "NOT_STARTED",
        "IN_PROGRESS": "NOT_STARTED",
        "FINALIZING": "IN_PROGRESS",
        "SUCCESSFUL": "SUCCESSFUL",
        "FAILED": "FAILED",
        "CANCELED": "NOT_RESTORED",
    }[state]


def render_collection_restore_job(
    job: StoredCollectionRestoreJob, view: View, *, as_created: bool = False
) -> dict[str, Any]:
    """Render a collection restore job (``ApiAtlasCollectionRestoreJobResponse``).

    :param job: the job.
    :param view: rendering context.
    :param as_created: the create answer: always ``INITIALIZING``, nothing restored yet.
    """
    state = "INITIALIZING" if as_created else job.state(view.now)
    request = job.request
    body: dict[str, Any] = {
        "collectionSuffix": request.get("collectionSuffix") or "",
        "collections": [dict(item) for item in request.get("collections") or []],
        "createdAt": iso_utc(job.created_at),
        "databaseSuffix": request.get("databaseSuffix") or "",
        "databases": [dict(item) for item in request.get("databases") or []],
        "id": job.id,
        "indexStatus": {
            "failedCollectionCount": 0,
            "state": _index_state(job, state),
        },
        "indexStrategy": request["indexStrategy"],
        "restoredDocuments": 0 if as_created else job.restored_documents(view.now),
        "state": state,
        "targetClusterName": request["targetClusterName"],
        "targetGroupId": request["targetGroupId"],
        "totalDocuments": job.total_documents,
        "writeStrategy": request["writeStrategy"],
    }
    for name in ("snapshotId", "pointInTimeUtcSeconds", "oplogTs", "oplogInc"):
        if request.get(name) is not None:
            body[name] = request[name]
    finished = None if as_created else job.finished_at(view.now)
    if finished is not None:
        body["finishedAt"] = iso_utc(finished)
    if state in ("FAILED", "CANCELED") and job.error_message:
        body["errorMessage"] = job.error_message
    return dict(sorted(body.items()))


def render_restored_collection(
    job: StoredCollectionRestoreJob, collection: RestoredCollection, view: View
) -> dict[str, Any]:
    """Render one collection's state (``ApiAtlasCollectionRestoreCollectionStateResponse``).

    :param job: its job.
    :param collection: the collection.
    :param view: rendering context.
    """
    state, restored = job.collection_progress(collection, view.now)
    if job.request.get("indexStrategy") == "NONE" or state in ("NOT_RESTORED", "NOT_FOUND", "UNSUPPORTED"):
        index_state = "NOT_RESTORED"
    elif state == "SUCCESSFUL":
        index_state = "SUCCESSFUL"
    elif state in ("FAILED", "INDEX_BUILD_FAILED"):
        index_state = "FAILED"
    elif state == "FINALIZING":
        index_state = "IN_PROGRESS"
    else:
        index_state = "NOT_STARTED"
    return {
        "effectiveTargetNamespace": collection.effective_target_namespace,
        "indexStatus": {"state": index_state},
        "restoredDocuments": restored,
        "sourceNamespace": collection.source_namespace,
        "state": state,
        "targetNamespace": collection.target_namespace,
        "totalDocuments": collection.total_documents,
    }
