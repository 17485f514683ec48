"""The flex API routes (``/groups/{groupId}/flexClusters/{name}/...``) and the cross-family errors.

A mixin of :class:`~.handlers.ApiHandlers`: it uses that class's store, settings and answer
helpers. :meth:`FlexHandlers.flex_family_answer` runs before every cluster-scoped route: the
cluster API answers 400 ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API`` for a flex cluster (but a
``served_by_cluster_api`` one gets its description from ``GET /clusters/{name}``), the flex API
answers 400 ``CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API`` for a dedicated one, and a name that is
neither gets 404 ``CLUSTER_NOT_FOUND`` from both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.testing.cluster_payloads import negotiate
from airflow_provider_atlas_restore.testing.errors import AtlasError
from airflow_provider_atlas_restore.testing.flex_payloads import (
    FLEX_CONTENT_TYPE,
    FLEX_VERSIONED_ROUTES,
    render_flex_cluster,
    render_flex_cluster_in_cluster_api,
    render_flex_job,
    render_flex_snapshot,
)
from airflow_provider_atlas_restore.testing.ids import OBJECT_ID_RE
from airflow_provider_atlas_restore.testing.payloads import View
from airflow_provider_atlas_restore.testing.routes import Answer, Request

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.state import Store
    from airflow_provider_atlas_restore.testing.switches import Settings

__all__ = ["FLEX_IN_CLUSTER_API_CODE", "NON_FLEX_IN_FLEX_API_CODE", "FlexHandlers"]

FLEX_IN_CLUSTER_API_CODE = "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"
NON_FLEX_IN_FLEX_API_CODE = "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"
#: The spec's ``targetDeploymentItemName`` pattern, ``\p{L}\p{N}`` written as Python's ``\w``.
_TARGET_NAME_RE = re.compile(r"^[\w\-.(),:&@+']{1,64}$")
#: ``FlexBackupRestoreJobCreate20241113``: what a create may set, and the read-only rest, which
#: is ignored (the Atlas CLI sends ``instanceName`` and gets its job: README "Flex cluster backups").
_CREATE_WRITABLE = ("snapshotId", "targetDeploymentItemName", "targetProjectId")
_CREATE_READ_ONLY = frozenset(
    {
        *("deliveryType", "expirationDate", "id", "instanceName", "links", "projectId"),
        *("restoreFinishedDate", "restoreScheduledDate", "snapshotFinishedDate", "snapshotUrl", "status"),
    }
)
#: ``FlexBackupSnapshotDownloadCreate20241113``.
_DOWNLOAD_WRITABLE = ("snapshotId",)
_DOWNLOAD_READ_ONLY = frozenset({"links"})


def flex_in_cluster_api(name: str) -> AtlasError:
    """400 ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API``, worded like ``recorded/v2-error-400-cluster-api.json``.

    :param name: the flex cluster.
    """
    return AtlasError(
        400, FLEX_IN_CLUSTER_API_CODE, f"Flex cluster {name} cannot be used in the Cluster API.", [name]
    )


def non_flex_in_flex_api(name: str) -> AtlasError:
    """400 ``CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API``, worded like ``recorded/v2-error-400-flex-api.json``.

    :param name: the dedicated cluster.
    """
    return AtlasError(
        400, NON_FLEX_IN_FLEX_API_CODE, f"Cannot use non-flex cluster {name} in the flex API.", [name]
    )


def _missing(name: str) -> AtlasError:
    return AtlasError(400, "MISSING_ATTRIBUTE", f"The required attribute {name} was not specified.", [name])


def _invalid(name: str) -> AtlasError:
    return AtlasError(400, "INVALID_ATTRIBUTE", f"Invalid attribute {name} specified.", [name])


def _parse_body(raw: bytes, writable: tuple[str, ...], read_only: frozenset[str]) -> dict[str, Any]:
    """Parse a flex POST body: unknown fields refused, read-only ones dropped, ids checked."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.") from None
    if not isinstance(body, dict):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.")
    for name in body:
        if name not in writable and name not in read_only:
            raise _invalid(name)
    kept = {name: value for name, value in body.items() if name in writable and value is not None}
    for name in ("snapshotId", "targetProjectId"):
        value = kept.get(name)
        if value is not None and not (isinstance(value, str) and OBJECT_ID_RE.match(value)):
            raise _invalid(name)
    target = kept.get("targetDeploymentItemName")
    if target is not None and not (isinstance(target, str) and _TARGET_NAME_RE.match(target)):
        raise _invalid("targetDeploymentItemName")
    return kept


class FlexHandlers:
    """The flex routes of :class:`~.handlers.ApiHandlers` (mixed into it)."""

    store: Store
    settings: Settings

    if TYPE_CHECKING:  # provided by ApiHandlers

        def _ok(
            self,
            req: Request,
            body: dict[str, Any],
            page: bool = False,
            headers: dict[str, str] | None = None,
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

        def _versioned(self, req: Request, route: str, body: dict[str, Any]) -> Answer: ...

    def flex_routes(self) -> dict[str, Callable[[Request, View], Answer]]:
        """Return the flex route handlers by route name."""
        return {
            "get_flex_cluster": self._get_flex_cluster,
            "list_flex_restore_jobs": self._list_flex_jobs,
            "create_flex_restore_job": self._create_flex_job,
            "get_flex_restore_job": self._get_flex_job,
            "list_flex_snapshots": self._list_flex_snapshots,
            "get_flex_snapshot": self._get_flex_snapshot,
            "download_flex_snapshot": self._download_flex_snapshot,
        }

    def flex_family_answer(self, route: str, req: Request, view: View) -> Answer | None:
        """Refuse a cluster of the other family (400), or describe a served flex cluster; else None.

        :param route: the route name.
        :param req: the request (ids already checked).
        :param view: rendering context.
        """
        name = req.params.get("cluster_name")
        project = self.store.projects.get(req.params.get("group_id", ""))
        if name is None or project is None:
            return None
        if route in FLEX_VERSIONED_ROUTES:
            if name in project.clusters:
                raise non_flex_in_flex_api(name)
            return None
        cluster = project.flex_clusters.get(name)
        if cluster is None:
            return None
        if route == "get_cluster" and cluster.served_by_cluster_api:
            media_type = negotiate(route, req.headers.get("Accept", "")) or ""
            return self._versioned(req, route, render_flex_cluster_in_cluster_api(cluster, view, media_type))
        raise flex_in_cluster_api(name)

    # -- answers -------------------------------------------------------------------------
    def _flex_ok(self, req: Request, body: dict[str, Any]) -> Answer:
        return self._ok(req, body, headers={"Content-Type": FLEX_CONTENT_TYPE})

    def _flex_page(
        self,
        req: Request,
        view: View,
        segment: str,
        items: list[Any],
        render: Callable[[Any], dict[str, Any]],
    ) -> Answer:
        p = req.params
        return self._list_page(
            req,
            view,
            f"/groups/{p['group_id']}/flexClusters/{p['cluster_name']}/backup/{segment}",
            items,
            render,
            headers={"Content-Type": FLEX_CONTENT_TYPE},
        )

    # -- routes --------------------------------------------------------------------------
    def _get_flex_cluster(self, req: Request, view: View) -> Answer:
        cluster = self.store.flex.cluster(req.params["group_id"], req.params["cluster_name"])
        return self._flex_ok(req, render_flex_cluster(cluster, view))

    def _list_flex_jobs(self, req: Request, view: View) -> Answer:
        cluster = self.store.flex.cluster(req.params["group_id"], req.params["cluster_name"])
        return self._flex_page(
            req, view, "restoreJobs", cluster.jobs_newest_first(), lambda job: render_flex_job(job, view)
        )

    def _get_flex_job(self, req: Request, view: View) -> Answer:
        p = req.params
        job = self.store.flex.job(p["group_id"], p["cluster_name"], p["job_id"])
        return self._flex_ok(req, render_flex_job(job, view))

    def _list_flex_snapshots(self, req: Request, view: View) -> Answer:
        cluster = self.store.flex.cluster(req.params["group_id"], req.params["cluster_name"])
        return self._flex_page(
            req,
            view,
            "snapshots",
            cluster.snapshots_oldest_first(),
            lambda snap: render_flex_snapshot(snap, view),
        )

    def _get_flex_snapshot(self, req: Request, view: View) -> Answer:
        p = req.params
        snap = self.store.flex.snapshot(p["group_id"], p["cluster_name"], p["snapshot_id"])
        return self._flex_ok(req, render_flex_snapshot(snap, view))

    def _completed_snapshot(self, req: Request, snapshot_id: str) -> None:
        snap = self.store.flex.snapshot(req.params["group_id"], req.params["cluster_name"], snapshot_id)
        if snap.status != "COMPLETED":
            raise AtlasError(
                400, "INVALID_ATTRIBUTE", f"Snapshot {snap.id} is {snap.status}, not COMPLETED.", [snap.id]
            )

    def _create_flex_job(self, req: Request, view: View) -> Answer:
        p = req.params
        cluster = self.store.flex.cluster(p["group_id"], p["cluster_name"])
        body = _parse_body(req.body, _CREATE_WRITABLE, _CREATE_READ_ONLY)
        for name in ("snapshotId", "targetDeploymentItemName"):
            if name not in body:
                raise _missing(name)
        self._completed_snapshot(req, body["snapshotId"])
        target_project = self.store.project(body.get("targetProjectId", cluster.group_id))
        target = body["targetDeploymentItemName"]
        if target not in target_project.clusters and target not in target_project.flex_clusters:
            self.store.cluster(target_project.id, target)  # 404 CLUSTER_NOT_FOUND
        job = self.store.flex.add_job(
            cluster.group_id,
            cluster.name,
            body["snapshotId"],
            self.settings.ready_after,
            target_cluster_name=target,
            target_group_id=target_project.id,
        )
        return self._flex_ok(req, render_flex_job(job, view, as_created=True))

    def _download_flex_snapshot(self, req: Request, view: View) -> Answer:
        p = req.params
        self.store.flex.cluster(p["group_id"], p["cluster_name"])
        body = _parse_body(req.body, _DOWNLOAD_WRITABLE, _DOWNLOAD_READ_ONLY)
        if "snapshotId" not in body:
            raise _missing("snapshotId")
        self._completed_snapshot(req, body["snapshotId"])
        job = self.store.flex.add_download(p["group_id"], p["cluster_name"], body["snapshotId"])
        return self._flex_ok(req, render_flex_job(job, view, as_created=True))
