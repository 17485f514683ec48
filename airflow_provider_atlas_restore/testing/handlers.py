"""The Atlas API routes: turn a request into an answer using the emulator state."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from airflow_provider_atlas_restore.testing.backup_handlers import BackupRoutes
from airflow_provider_atlas_restore.testing.backup_payloads import render_any_snapshot
from airflow_provider_atlas_restore.testing.cluster_payloads import (
    answer_headers,
    negotiate,
    render_backup_schedule,
    render_cluster,
)
from airflow_provider_atlas_restore.testing.errors import AtlasError
from airflow_provider_atlas_restore.testing.flex_handlers import FlexHandlers
from airflow_provider_atlas_restore.testing.ids import CLUSTER_NAME_RE, OBJECT_ID_RE
from airflow_provider_atlas_restore.testing.payloads import (
    V1_CONTENT_TYPE,
    V2_CONTENT_TYPE,
    View,
    cluster_resource,
    render_job,
    render_page,
    render_project,
)
from airflow_provider_atlas_restore.testing.records import DELIVERY_TYPES
from airflow_provider_atlas_restore.testing.routes import Answer, Request
from airflow_provider_atlas_restore.testing.state import Store
from airflow_provider_atlas_restore.testing.switches import Settings

__all__ = ["ApiHandlers", "error_answer", "json_bytes"]

_JOB_FIELDS = frozenset(
    {
        *("cancelled", "components", "deliveryType", "deliveryUrl", "desiredTimestamp", "expired"),
        *("expiresAt", "failed", "finishedAt", "id", "links", "oplogInc", "oplogTs"),
        *("pointInTimeUTCSeconds", "privateDownloadDeliveryUrls", "snapshotId", "targetClusterName"),
        *("targetGroupId", "timestamp"),
    }
)
_MIN_EPOCH = 1_199_145_600  # the spec's minimum for pointInTimeUTCSeconds and oplogTs
CANCEL_FINISHED_CODE = "CANNOT_CANCEL_RESTORE_JOB"  # emulator's choice: Atlas's code is unknown
CANCEL_SHARDED_CODE = "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED"


def json_bytes(body: Any, pretty: bool = False) -> bytes:
    """Encode JSON compactly, or indented when ``pretty``.

    :param body: JSON-able value.
    :param pretty: indent by two spaces.
    """
    if pretty:
        return json.dumps(body, indent=2).encode()
    return json.dumps(body, separators=(",", ":")).encode()


def error_answer(error: AtlasError, pretty: bool = False) -> Answer:
    """Build the answer for an Atlas error (``application/json`` plus ``X-Error-Code``).

    :param error: the error.
    :param pretty: indent the body.
    """
    headers = {"Content-Type": "application/json"}
    if error.code:
        headers["X-Error-Code"] = error.code
    return Answer(error.status, headers, json_bytes(error.body(), pretty))


def _invalid_param(name: str, value: str, detail: str) -> AtlasError:
    return AtlasError(400, "INVALID_QUERY_PARAMETER", detail, [name, value])


def _flag(req: Request, name: str, default: bool) -> bool:
    value = req.arg(name)
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid_param(
        name, value, f"Invalid value {value} for query parameter {name}; expected true or false."
    )


def _int_arg(req: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid_param(name, raw, f"Invalid value {raw} for query parameter {name}.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid_param(name, raw, f"Invalid {name} {raw}: must be {bound}.")
    return value


def _check_ids(params: dict[str, str]) -> None:
    """Reject malformed path ids before any lookup (400)."""
    group_id = params.get("group_id")
    if group_id is not None and not OBJECT_ID_RE.match(group_id):
        raise AtlasError(
            400, "INVALID_GROUP_ID", f"The specified group ID {group_id} is invalid.", [group_id]
        )
    name = params.get("cluster_name")
    if name is not None and not CLUSTER_NAME_RE.match(name):
        raise AtlasError(400, "INVALID_CLUSTER_NAME", f"The cluster name {name} is invalid.", [name])
    for key, label in (("job_id", "restore job ID"), ("snapshot_id", "snapshot ID")):
        value = params.get(key)
        if value is not None and not OBJECT_ID_RE.match(value):
            raise AtlasError(400, "INVALID_ATTRIBUTE", f"The specified {label} {value} is invalid.", [value])


class ApiHandlers(FlexHandlers, BackupRoutes):
    """Route handlers for the Atlas resources (everything but auth, faults and downloads).

    :param store: emulator state.
    :param settings: run-time switches.
    :param base_url: returns the server's base URL (for absolute links).
    """

    def __init__(self, store: Store, settings: Settings, base_url: Callable[[], str]) -> None:
        self.store = store
        self.settings = settings
        self._base_url = base_url
        self._routes: dict[str, Callable[[Request, View], Answer]] = {
            "list_restore_jobs": self._list_jobs,
            "create_restore_job": self._create_job,
            "get_restore_job": self._get_job,
            "cancel_restore_job": self._cancel_job,
            "list_snapshots": self._list_snapshots,
            "list_sharded_snapshots": self._list_snapshots,
            "get_snapshot": self._get_snapshot,
            "get_sharded_snapshot": self._get_snapshot,
            "get_project": self._get_project,
            "list_projects": self._list_projects,
            "get_cluster": self._get_cluster,
            "get_backup_schedule": self._get_backup_schedule,
        }
        self._routes.update(self.flex_routes())
        self._routes.update(self.backup_routes())

    def handle(self, route: str, req: Request) -> Answer:
        """Answer an authenticated, authorised API request; errors become Atlas errors.

        :param route: route name.
        :param req: the request.
        """
        pretty = req.arg("pretty") == "true"
        try:
            _check_ids(req.params)
            view = View(self._base_url(), req.version, self.store.clock.now())
            with self.store.lock:
                return self.flex_family_answer(route, req, view) or self._routes[route](req, view)
        except AtlasError as error:
            return error_answer(error, pretty)

    # -- answers -------------------------------------------------------------------------
    def _ok(
        self,
        req: Request,
        body: dict[str, Any],
        page: bool = False,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> Answer:
        if _flag(req, "envelope", False):
            body = {**body, "status": status} if page else {"status": status, "content": body}
        content_type = V2_CONTENT_TYPE if req.version == "v2" else V1_CONTENT_TYPE
        headers = headers or {"Content-Type": content_type}
        return Answer(status, headers, json_bytes(body, _flag(req, "pretty", False)))

    def _page(
        self,
        req: Request,
        view: View,
        resource_path: str,
        total: int,
        fetch: Callable[[int, int], list[Any]],
        render: Callable[[Any], dict[str, Any]],
        headers: dict[str, str] | None = None,
    ) -> Answer:
        include_count = _flag(req, "includeCount", True)
        page_num = _int_arg(req, "pageNum", 1, 1, None)
        per_page = _int_arg(req, "itemsPerPage", 100, 1, 500)
        keep = {k: v for k in ("envelope", "pretty") if (v := req.arg(k)) is not None}
        page = render_page(
            [render(item) for item in fetch((page_num - 1) * per_page, per_page)],
            view=view,
            resource_path=resource_path,
            page_num=page_num,
            items_per_page=per_page,
            total=total,
            include_count=include_count,
            keep=keep,
        )
        return self._ok(req, page, page=True, headers=headers)

    def _list_page(
        self,
        req: Request,
        view: View,
        resource_path: str,
        items: Sequence[Any],
        render: Callable[[Any], dict[str, Any]],
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Answer one page of ``items``, a list already in the route's order."""
        return self._page(
            req,
            view,
            resource_path,
            len(items),
            lambda start, count: list(items[start : start + count]),
            render,
            headers,
        )

    # -- restore jobs --------------------------------------------------------------------
    def _list_jobs(self, req: Request, view: View) -> Answer:
        p = req.params
        cluster = self.store.cluster(p["group_id"], p["cluster_name"])
        return self._page(
            req,
            view,
            f"{cluster_resource(cluster)}/backup/restoreJobs",
            len(cluster.job_order),
            cluster.jobs_page,
            lambda job: render_job(job, view),
        )

    def _get_job(self, req: Request, view: View) -> Answer:
        p = req.params
        job = self.store.job(p["group_id"], p["cluster_name"], p["job_id"])
        return self._ok(req, render_job(job, view))

    def _cancel_job(self, req: Request, view: View) -> Answer:
        p = req.params
        job = self.store.job(p["group_id"], p["cluster_name"], p["job_id"])
        if job.sharded:
            raise AtlasError(
                405, CANCEL_SHARDED_CODE, "Cannot cancel a restore job of a sharded cluster.", [job.id]
            )
        state = job.state(view.now)
        if state != "pending":
            raise AtlasError(
                405,
                CANCEL_FINISHED_CODE,
                f"Restore job {job.id} is {state} and cannot be cancelled.",
                [job.id],
            )
        job.force_state("cancelled", view.now)
        return Answer(204)

    def _create_job(self, req: Request, view: View) -> Answer:
        p = req.params
        cluster = self.store.cluster(p["group_id"], p["cluster_name"])
        body = _parse_create_body(req.body)
        kind = body["deliveryType"]
        snapshot_id = body.get("snapshotId")
        if snapshot_id is not None:
            snap = self.store.snapshot(cluster.group_id, cluster.name, snapshot_id)
            if snap.status != "completed":
                raise AtlasError(
                    400,
                    "INVALID_ATTRIBUTE",
                    f"Snapshot {snap.id} is {snap.status}, not completed.",
                    [snap.id],
                )
        if kind != "download":
            target = self.store.project(body["targetGroupId"])
            if body["targetClusterName"] not in target.clusters:
                self.store.cluster(target.id, body["targetClusterName"])
        job = self.store.add_job(
            cluster.group_id,
            cluster.name,
            kind,
            snapshot_id,
            self.settings.ready_after,
            target_cluster_name=body.get("targetClusterName"),
            target_group_id=body.get("targetGroupId"),
            point_in_time_utc_seconds=body.get("pointInTimeUTCSeconds"),
            oplog_ts=body.get("oplogTs"),
            oplog_inc=body.get("oplogInc"),
        )
        return self._ok(req, render_job(job, view, as_created=True))

    # -- snapshots and projects ----------------------------------------------------------
    def _list_snapshots(self, req: Request, view: View) -> Answer:
        p = req.params
        cluster = self.store.cluster(p["group_id"], p["cluster_name"])
        sharded = req.path.endswith("/shardedClusters")
        items = cluster.snapshots_newest_first(sharded)
        suffix = "/snapshots/shardedClusters" if sharded else "/snapshots"
        return self._list_page(
            req,
            view,
            f"{cluster_resource(cluster)}/backup{suffix}",
            items,
            lambda snap: render_any_snapshot(snap, view),
        )

    def _get_snapshot(self, req: Request, view: View) -> Answer:
        p = req.params
        snap = self.store.snapshot(p["group_id"], p["cluster_name"], p["snapshot_id"])
        if snap.sharded != ("/shardedCluster/" in req.path):
            raise AtlasError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {snap.id}.", [snap.id])
        return self._ok(req, render_any_snapshot(snap, view))

    def _get_project(self, req: Request, view: View) -> Answer:
        return self._ok(req, render_project(self.store.project(req.params["group_id"]), view))

    def _versioned(self, req: Request, route: str, body: dict[str, Any]) -> Answer:
        """Answer in the resource version the ``Accept`` header chose (the server checked it)."""
        media_type = negotiate(route, req.headers.get("Accept", "")) if req.version == "v2" else None
        return self._ok(req, body, headers=answer_headers(req.version, media_type))

    def _get_cluster(self, req: Request, view: View) -> Answer:
        cluster = self.store.cluster(req.params["group_id"], req.params["cluster_name"])
        return self._versioned(req, "get_cluster", render_cluster(cluster, view))

    def _get_backup_schedule(self, req: Request, view: View) -> Answer:
        cluster = self.store.cluster(req.params["group_id"], req.params["cluster_name"])
        return self._versioned(req, "get_backup_schedule", render_backup_schedule(cluster, view))

    def _list_projects(self, req: Request, view: View) -> Answer:
        projects = sorted(self.store.projects.values(), key=lambda project: (project.created, project.id))
        return self._list_page(
            req,
            view,
            "/groups",
            projects,
            lambda project: render_project(project, view),
        )


def _missing(name: str) -> AtlasError:
    return AtlasError(400, "MISSING_ATTRIBUTE", f"The required attribute {name} was not specified.", [name])


def _invalid(name: str, value: object) -> AtlasError:
    return AtlasError(400, "INVALID_ATTRIBUTE", f"Invalid attribute {name} specified.", [name])


def _parse_create_body(raw: bytes) -> dict[str, Any]:
    """Validate a create-restore-job body as Atlas does; return it."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.") from None
    if not isinstance(body, dict):
        raise AtlasError(400, "INVALID_JSON", "Received JSON is malformed.")
    for name in body:
        if name not in _JOB_FIELDS:
            raise _invalid(name, body[name])
    kind = body.get("deliveryType")
    if kind is None:
        raise _missing("deliveryType")
    if kind not in DELIVERY_TYPES:
        raise AtlasError(
            400,
            "INVALID_ENUM_VALUE",
            f"An invalid enumeration value {kind} was specified.",
            [str(kind), "deliveryType"],
        )
    for name in ("snapshotId", "targetGroupId"):
        value = body.get(name)
        if value is not None and not (isinstance(value, str) and OBJECT_ID_RE.match(value)):
            raise _invalid(name, value)
    target = body.get("targetClusterName")
    if target is not None and not (isinstance(target, str) and CLUSTER_NAME_RE.match(target)):
        raise _invalid("targetClusterName", target)
    if kind in ("download", "automated") and body.get("snapshotId") is None:
        raise _missing("snapshotId")
    if kind in ("automated", "pointInTime"):
        for name in ("targetClusterName", "targetGroupId"):
            if body.get(name) is None:
                raise _missing(name)
    if kind == "pointInTime":
        _check_point_in_time(body)
    return body


def _check_point_in_time(body: dict[str, Any]) -> None:
    numbers = {k: body.get(k) for k in ("pointInTimeUTCSeconds", "oplogTs", "oplogInc")}
    for name, value in numbers.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _invalid(name, value)
    pit, ts, inc = numbers["pointInTimeUTCSeconds"], numbers["oplogTs"], numbers["oplogInc"]
    if pit is not None and (ts is not None or inc is not None):
        raise AtlasError(
            400,
            "INVALID_ATTRIBUTE",
            "Specify either pointInTimeUTCSeconds or oplogTs and oplogInc, not both.",
            ["pointInTimeUTCSeconds"],
        )
    if pit is None and ts is None and inc is None:
        raise _missing("pointInTimeUTCSeconds")
    if pit is None and (ts is None or inc is None):
        raise _missing("oplogInc" if inc is None else "oplogTs")
    for name, value, low in (
        ("pointInTimeUTCSeconds", pit, _MIN_EPOCH),
        ("oplogTs", ts, _MIN_EPOCH),
        ("oplogInc", inc, 1),
    ):
        if value is not None and value < low:
            raise _invalid(name, value)
