"""Operators that start and cancel MongoDB Atlas restore jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec, delivery_type_with_article
from airflow_provider_atlas_restore.api.validation import (
    DELIVERY_TYPES,
    validate_choice,
    validate_cluster_name,
    validate_conn_id,
    validate_group_id_or_default,
    validate_object_id,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

#: ``snapshot_id`` value that picks the cluster's newest completed snapshot when the task runs.
LATEST_SNAPSHOT = "latest"
_OVERWRITING = ("automated", "pointInTime")


def _as_int(value: int | str | None, name: str) -> int | None:
    """Return a templated number as an int (templates render to strings); other types are refused."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise AtlasInputError(
        f"{name}={value!r} is not a whole number: it must be an integer, or text such as '42'."
    )


def _hook(atlas_conn_id: str) -> AtlasHook:
    """Return a new hook; imported only when a task runs, as the hook brings the HTTP client."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    return AtlasHook(atlas_conn_id=atlas_conn_id)


class AtlasCreateRestoreJobOperator(BaseOperator):
    """
    Start an Atlas restore job and return it (XCom): ``download``, ``automated`` or ``pointInTime``.

    A ``download`` restore prepares snapshot files to fetch; wait for them with
    :class:`~airflow_provider_atlas_restore.sensors.restore_job.AtlasRestoreJobSensor`, then use
    :class:`~airflow_provider_atlas_restore.operators.download.AtlasDownloadSnapshotOperator`.

    **Automated and point-in-time restores overwrite every database of the target cluster.**
    They run only with ``confirm_overwrite=True``; without it the DAG fails to load.

    The create request is not repeated after a server error or a lost answer (the job may have
    been created); only 429 and refused connections are retried.

    :param cluster_name: the cluster whose snapshot is restored. (templated)
    :param delivery_type: ``download`` (default), ``automated`` or ``pointInTime``.
    :param snapshot_id: the snapshot to restore, or ``"latest"`` (default) for the newest completed
        one when the task runs; ignored (``None``) for ``pointInTime`` unless given. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param target_cluster_name: the cluster to overwrite (automated, pointInTime). (templated)
    :param target_group_id: the target cluster's project (automated, pointInTime). (templated)
    :param point_in_time_utc_seconds: the moment to restore to (pointInTime). (templated)
    :param oplog_ts: oplog timestamp to restore to, with ``oplog_inc`` (pointInTime). (templated)
    :param oplog_inc: operation number within ``oplog_ts`` (pointInTime). (templated)
    :param confirm_overwrite: must be ``True`` for automated and pointInTime restores.
    :param allow_fallback_snapshot: let ``"latest"`` choose a fallback snapshot (``snapshotType:
        fallback``, which Atlas warns may hold inconsistent data); by default they are skipped.
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "snapshot_id",
        "group_id",
        "target_cluster_name",
        "target_group_id",
        "point_in_time_utc_seconds",
        "oplog_ts",
        "oplog_inc",
        "atlas_conn_id",
    )
    operator_extra_links = (AtlasRestoresLink(),)
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        delivery_type: str = "download",
        snapshot_id: str | None = LATEST_SNAPSHOT,
        group_id: str | None = None,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | str | None = None,
        oplog_ts: int | str | None = None,
        oplog_inc: int | str | None = None,
        confirm_overwrite: bool = False,
        allow_fallback_snapshot: bool = False,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.delivery_type = validate_choice(delivery_type, "delivery_type", DELIVERY_TYPES)
        if self.delivery_type in _OVERWRITING and confirm_overwrite is not True:
            target = f" {target_cluster_name!r}" if target_cluster_name is not None else ""
            raise AtlasInputError(
                f"{delivery_type_with_article(self.delivery_type)} restore overwrites all data of the "
                f"target cluster{target}: pass confirm_overwrite=True to {type(self).__name__} "
                f"(task {kwargs.get('task_id')!r}) to say that this is intended."
            )
        if self.delivery_type == "pointInTime" and snapshot_id == LATEST_SNAPSHOT:
            snapshot_id = None
        self.cluster_name = cluster_name
        self.snapshot_id = snapshot_id
        self.group_id = group_id
        self.target_cluster_name = target_cluster_name
        self.target_group_id = target_group_id
        self.point_in_time_utc_seconds = point_in_time_utc_seconds
        self.oplog_ts = oplog_ts
        self.oplog_inc = oplog_inc
        self.confirm_overwrite = confirm_overwrite
        self.allow_fallback_snapshot = allow_fallback_snapshot
        self.atlas_conn_id = atlas_conn_id

    def _spec(self, snapshot_id: str | None) -> RestoreJobSpec:
        """Return the restore job's spec from the rendered fields (templated numbers read as ints)."""
        return RestoreJobSpec(
            self.delivery_type,
            snapshot_id=snapshot_id,
            target_cluster_name=self.target_cluster_name,
            target_group_id=self.target_group_id,
            point_in_time_utc_seconds=_as_int(self.point_in_time_utc_seconds, "point_in_time_utc_seconds"),
            oplog_ts=_as_int(self.oplog_ts, "oplog_ts"),
            oplog_inc=_as_int(self.oplog_inc, "oplog_inc"),
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, resolve ``latest``, create the job and return it."""
        # Templated values are known only now: check them all before any request or XCom.
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        choose_latest = self.snapshot_id == LATEST_SNAPSHOT
        spec = self._spec(None if choose_latest else self.snapshot_id).check(
            snapshot_chosen_later=choose_latest
        )
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            if choose_latest:
                latest = hook.latest_completed_snapshot(
                    self.cluster_name, group, allow_fallback_snapshot=self.allow_fallback_snapshot
                )
                spec = spec.with_snapshot(latest["id"])
            hook.check_point_in_time_restore(self.cluster_name, spec, group)  # before the POST
            AtlasRestoresLink.persist(
                context, base_url=hook.config.base_url, group_id=group, cluster_name=self.cluster_name
            )
            return hook.create_restore_job(self.cluster_name, spec, group)
        finally:
            hook.close()


class AtlasCancelRestoreJobOperator(BaseOperator):
    """
    Cancel an Atlas restore job; fails with Atlas's reason when the job cannot be cancelled.

    :param cluster_name: the job's cluster. (templated)
    :param restore_job_id: the job to cancel. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    """

    template_fields: Sequence[str] = ("cluster_name", "restore_job_id", "group_id", "atlas_conn_id")
    operator_extra_links = (AtlasRestoresLink(),)
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cluster_name = cluster_name
        self.restore_job_id = restore_job_id
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id

    def execute(self, context: Context) -> None:
        """Check every input, then cancel the job."""
        # Templated values are known only now: check them all before any request or XCom.
        validate_cluster_name(self.cluster_name)
        validate_object_id(self.restore_job_id, "restore_job_id")
        validate_group_id_or_default(self.group_id)
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            AtlasRestoresLink.persist(
                context, base_url=hook.config.base_url, group_id=group, cluster_name=self.cluster_name
            )
            hook.cancel_restore_job(self.cluster_name, self.restore_job_id, group)
        finally:
            hook.close()
