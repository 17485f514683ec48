"""The routes of on-demand snapshots, export buckets and jobs, and collection restores.

:class:`BackupRoutes` is a base of :class:`~.handlers.ApiHandlers`: its handlers use the same
answers, paging and id checks. Media types (README "Versioned media types"): snapshots and
export jobs 2023-01-01; export buckets 2024-05-30, or the sunset 2023-01-01 (AWS only);
collection restores 2025-03-12, on v2 only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.testing.backup_bodies import (
    RETENTION_UNITS,
    parse_bucket_body,
    parse_collection_restore_body,
    parse_export_body,
    parse_retention_body,
    parse_snapshot_body,
)
from airflow_provider_atlas_restore.testing.backup_payloads import (
    MEDIA_TYPE_2024_05_30,
    render_any_snapshot,
    render_bucket,
    render_collection_restore_job,
    render_export_job,
    render_on_demand_snapshot,
    render_restored_collection,
)
from airflow_provider_atlas_restore.testing.backup_records import COLLECTION_STATES, OnDemandSnapshot
from airflow_provider_atlas_restore.testing.cluster_payloads import answer_headers, negotiate
from airflow_provider_atlas_restore.testing.errors import AtlasError, resource_not_found
from airflow_provider_atlas_restore.testing.ids import OBJECT_ID_RE
from airflow_provider_atlas_restore.testing.payloads import V2_CONTENT_TYPE
from airflow_provider_atlas_restore.testing.routes import Answer

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.backup_state import BackupStore
    from airflow_provider_atlas_restore.testing.payloads import View
    from airflow_provider_atlas_restore.testing.routes import Request
    from airflow_provider_atlas_restore.testing.state import Store

__all__ = ["BackupRoutes"]

_DAY = 86_400.0


def _check_id(value: str, label: str) -> str:
    if not OBJECT_ID_RE.match(value):
        raise AtlasError(400, "INVALID_ATTRIBUTE", f"The specified {label} {value} is invalid.", [value])
    return value


class BackupRoutes:
    """Handlers of the backup routes added for issue 18; mixed into ``ApiHandlers``."""

    store: Store

    if TYPE_CHECKING:

        def _ok(
            self,
            req: Request,
            body: dict[str, Any],
            page: bool = False,
            headers: dict[str, str] | None = None,
            status: int = 200,
        ) -> Answer: ...

        def _list_page(
            self,
            req: Request,
            view: View,
            resource_path: str,
            items: Sequence[Any],
            render: Callable[[Any], dict[str, Any]],
            headers: dict[str, str] | None = None,
        ) -> Answer: ...

    @property
    def backups(self) -> BackupStore:
        """The store of these resources."""
        return self.store.backups

    def backup_routes(self) -> dict[str, Callable[[Request, View], Answer]]:
        """Return the route table entries of these handlers."""
        return {
            "take_snapshot": self._take_snapshot,
            "delete_snapshot": self._delete_snapshot,
            "update_snapshot_retention": self._update_snapshot_retention,
            "list_export_buckets": self._list_buckets,
            "create_export_bucket": self._create_bucket,
            "get_export_bucket": self._get_bucket,
            "list_export_jobs": self._list_exports,
            "create_export_job": self._create_export,
            "get_export_job": self._get_export,
            "list_collection_restore_jobs": self._list_collection_restores,
            "create_collection_restore_job": self._create_collection_restore,
            "get_collection_restore_job": self._get_collection_restore,
            "list_restored_collections": self._list_restored_collections,
            "get_restored_collection": self._get_restored_collection,
        }

    @staticmethod
    def _media_headers(req: Request, route: str) -> dict[str, str]:
        media_type = negotiate(route, req.headers.get("Accept", "")) if req.version == "v2" else None
        return answer_headers(req.version, media_type)

    # -- on-demand snapshots -------------------------------------------------------------
    def _take_snapshot(self, req: Request, view: View) -> Answer:
        p = req.params
        self.store.cluster(p["group_id"], p["cluster_name"])
        body = parse_snapshot_body(req.body)
        snap = self.backups.take_snapshot(
            p["group_id"],
            p["cluster_name"],
            description=body.get("description"),
            retention_in_days=body.get("retentionInDays") or 1,
        )
        # The answer shows the snapshot as just requested, whatever the phase lengths.
        shown = replace(snap, status="queued", size_bytes=0) if snap.status != "failed" else snap
        return self._ok(req, render_on_demand_snapshot(shown, view))

    def _delete_snapshot(self, req: Request, view: View) -> Answer:
        p = req.params
        self.backups.delete_snapshot(p["group_id"], p["cluster_name"], p["snapshot_id"])
        return Answer(204, {"Content-Type": V2_CONTENT_TYPE} if req.version == "v2" else {})

    def _update_snapshot_retention(self, req: Request, view: View) -> Answer:
        p = req.params
        snap = self.store.snapshot(p["group_id"], p["cluster_name"], p["snapshot_id"])
        unit, value = parse_retention_body(req.body)
        seconds = value * RETENTION_UNITS[unit] * _DAY
        if isinstance(snap, OnDemandSnapshot):
            snap.retention_seconds_set = seconds
        else:
            snap.retention_seconds = seconds
        return self._ok(req, render_any_snapshot(snap, view))

    # -- export buckets ------------------------------------------------------------------
    def _list_buckets(self, req: Request, view: View) -> Answer:
        group_id = req.params["group_id"]
        buckets = self.backups.buckets_of(group_id)
        return self._list_page(
            req,
            view,
            f"/groups/{group_id}/backup/exportBuckets",
            buckets,
            render_bucket,
            headers=self._media_headers(req, "list_export_buckets"),
        )

    def _create_bucket(self, req: Request, view: View) -> Answer:
        headers = self._media_headers(req, "create_export_bucket")
        aws_only = not headers["Content-Type"].startswith(MEDIA_TYPE_2024_05_30)
        body = parse_bucket_body(req.body, aws_only=aws_only)
        bucket = self.backups.add_bucket(
            req.params["group_id"],
            body["bucketName"],
            body["cloudProvider"],
            role_id=body.get("iamRoleId") or body.get("roleId"),
            require_private_networking=bool(body.get("requirePrivateNetworking", False)),
            service_url=body.get("serviceUrl"),
        )
        return self._ok(req, render_bucket(bucket), headers=headers)

    def _get_bucket(self, req: Request, view: View) -> Answer:
        bucket_id = _check_id(req.params["export_bucket_id"], "export bucket ID")
        bucket = self.backups.bucket(req.params["group_id"], bucket_id)
        return self._ok(
            req,
            render_bucket(bucket, with_region=True),
            headers=self._media_headers(req, "get_export_bucket"),
        )

    # -- export jobs ---------------------------------------------------------------------
    def _list_exports(self, req: Request, view: View) -> Answer:
        p = req.params
        jobs = self.backups.export_jobs_newest_first(p["group_id"], p["cluster_name"])
        return self._list_page(
            req,
            view,
            f"/groups/{p['group_id']}/clusters/{p['cluster_name']}/backup/exports",
            jobs,
            lambda job: render_export_job(job, view),
        )

    def _create_export(self, req: Request, view: View) -> Answer:
        p = req.params
        self.store.cluster(p["group_id"], p["cluster_name"])
        body = parse_export_body(req.body)
        job = self.backups.add_export_job(
            p["group_id"],
            p["cluster_name"],
            body["snapshotId"],
            body["exportBucketId"],
            custom_data=body.get("customData"),
        )
        shown = replace(job, queued_seconds=float("inf")) if job.forced_state is None else job
        return self._ok(req, render_export_job(shown, view))

    def _get_export(self, req: Request, view: View) -> Answer:
        p = req.params
        job = self.backups.export_job(
            p["group_id"], p["cluster_name"], _check_id(p["export_id"], "export ID")
        )
        return self._ok(req, render_export_job(job, view))

    # -- collection restores -------------------------------------------------------------
    def _v2_only(self, req: Request) -> None:
        if req.version != "v2":
            raise AtlasError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {req.path}.", [req.path])

    def _list_collection_restores(self, req: Request, view: View) -> Answer:
        self._v2_only(req)
        p = req.params
        jobs = self.backups.collection_restore_jobs_newest_first(p["group_id"], p["cluster_name"])
        return self._list_page(
            req,
            view,
            f"/groups/{p['group_id']}/clusters/{p['cluster_name']}/collectionRestoreJobs",
            jobs,
            lambda job: render_collection_restore_job(job, view),
            headers=self._media_headers(req, "list_collection_restore_jobs"),
        )

    def _create_collection_restore(self, req: Request, view: View) -> Answer:
        self._v2_only(req)
        p = req.params
        cluster = self.store.cluster(p["group_id"], p["cluster_name"])
        body = parse_collection_restore_body(req.body)
        self.store.cluster(body["targetGroupId"], body["targetClusterName"])
        if body.get("snapshotId") is not None:
            snap = self.store.snapshot(cluster.group_id, cluster.name, body["snapshotId"])
            if snap.status != "completed":
                raise AtlasError(
                    400,
                    "INVALID_ATTRIBUTE",
                    f"Snapshot {snap.id} is {snap.status}, not completed.",
                    [snap.id],
                )
        job = self.backups.add_collection_restore_job(cluster.group_id, cluster.name, body)
        return self._ok(
            req,
            render_collection_restore_job(job, view, as_created=True),
            headers=self._media_headers(req, "create_collection_restore_job"),
            status=201,
        )

    def _collection_restore(self, req: Request) -> Any:
        self._v2_only(req)
        p = req.params
        return self.backups.collection_restore_job(p["group_id"], p["cluster_name"], p["job_id"])

    def _get_collection_restore(self, req: Request, view: View) -> Answer:
        job = self._collection_restore(req)
        return self._ok(
            req,
            render_collection_restore_job(job, view),
            headers=self._media_headers(req, "get_collection_restore_job"),
        )

    def _list_restored_collections(self, req: Request, view: View) -> Answer:
        job = self._collection_restore(req)
        wanted_state = req.arg("state")
        if wanted_state is not None and wanted_state not in COLLECTION_STATES:
            raise AtlasError(
                400,
                "INVALID_QUERY_PARAMETER",
                f"Invalid value {wanted_state} for query parameter state.",
                ["state", wanted_state],
            )
        rendered = (
            []
            if job.state(view.now) == "INITIALIZING"
            else [render_restored_collection(job, collection, view) for collection in job.collections]
        )
        for name in ("state", "sourceNamespace", "targetNamespace"):
            value = req.arg(name)
            if value is not None:
                rendered = [item for item in rendered if item[name] == value]
        p = req.params
        return self._list_page(
            req,
            view,
            f"/groups/{p['group_id']}/clusters/{p['cluster_name']}/collectionRestoreJobs/{job.id}/collections",
            rendered,
            lambda item: item,
            headers=self._media_headers(req, "list_restored_collections"),
        )

    def _get_restored_collection(self, req: Request, view: View) -> Answer:
        job = self._collection_restore(req)
        namespace = req.params["source_namespace"]
        if job.state(view.now) != "INITIALIZING":
            for collection in job.collections:
                if collection.source_namespace == namespace:
                    return self._ok(
                        req,
                        render_restored_collection(job, collection, view),
                        headers=self._media_headers(req, "get_restored_collection"),
                    )
        raise resource_not_found(namespace)
