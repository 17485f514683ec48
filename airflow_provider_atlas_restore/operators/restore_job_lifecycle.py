"""
Operator that starts (and waits for) a MongoDB Atlas restore job.

``AtlasCancelRestoreJobOperator`` lives in :mod:`~airflow_provider_atlas_restore.operators.cancel_restore_job`;
it is re-exported here so that the import path of earlier releases keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseOperator,
    conf,
)

from airflow_provider_atlas_restore.api.validation import (
    DELIVERY_TYPES,
    validate_choice,
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_flag,
    validate_group_id_or_default,
    validate_object_id,
    validate_positive_seconds,
    validate_templated_int,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink
from airflow_provider_atlas_restore.masking import redact_result_links
from airflow_provider_atlas_restore.models.snapshot_choice import LATEST_SNAPSHOT, snapshot_id_from_input
from airflow_provider_atlas_restore.operators.cancel_restore_job import AtlasCancelRestoreJobOperator

# The job's body and flex rules, its result, its state and the wait are imported where a task
# runs (or where __init__ refuses an input), not when a DAG file is parsed (figure 4p).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.models.wait import WaitOutcome

__all__ = ["LATEST_SNAPSHOT", "AtlasCancelRestoreJobOperator", "AtlasCreateRestoreJobOperator"]
#: Seconds between two looks at a job the create task waits for.
DEFAULT_POLL_INTERVAL = 30.0
#: Seconds the create task waits for its job before failing: 24 hours.
DEFAULT_TIMEOUT = 24 * 60 * 60.0
_OVERWRITING = ("automated", "pointInTime")
#: Stands for the snapshot ``"latest"`` finds later, when a flex spec is checked before any request.
_CHOSEN_LATER = "0" * 24


def _event_kind(event: dict[str, Any], cluster_type: str) -> str:
    """Return the cluster kind a trigger event carries (found before deferring), else ``cluster_type``."""
    kind = event.get("cluster_kind")
    return kind if kind in ("dedicated", "flex") else cluster_type


def _hook(atlas_conn_id: str) -> AtlasHook:
    """Return a new hook; imported only when a task runs, as the hook brings the HTTP client."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    return AtlasHook(atlas_conn_id=atlas_conn_id)


class AtlasCreateRestoreJobOperator(BaseOperator):
    """
    Start an Atlas restore job (``download``, ``automated`` or ``pointInTime``) and, by default, wait until it is done.

    **Automated and point-in-time restores overwrite every database of the target cluster.**
    They run only with ``confirm_overwrite=True``; without it the DAG fails to load.

    Waiting follows the rules of
    :class:`~airflow_provider_atlas_restore.sensors.restore_job.AtlasRestoreJobSensor` (links
    ready, or restore finished) and returns (XCom) what the sensor returns, for
    :class:`~airflow_provider_atlas_restore.operators.download.AtlasDownloadSnapshotOperator`. A
    failed, cancelled or expired job fails the task at once with its state; so does ``timeout``
    (the job goes on in Atlas); neither is retried. It looks once before deferring: a job done
    already never defers. See ``docs/waiting.md``.

    A retry never starts a second job for the same request: a later try (``try_number`` > 1)
    looks in Atlas (not in XCom, which Airflow clears) for a job of the same delivery type,
    snapshot (any, for ``"latest"``), target and point in time created since the DAG run began,
    less 60 s (:func:`~airflow_provider_atlas_restore.hooks.restore_job_waits.earliest_start_of_earlier_tries`),
    and adopts the newest one still pending or done. Clearing a finished DAG run starts anew.

    When the task is killed (SIGTERM, ``execution_timeout``), ``on_kill`` cancels the download
    restore it started or adopted if still pending (``cancel_on_kill``); Atlas cannot cancel
    automated and point-in-time restores, and the log says so. The create request is not
    repeated after a 5xx or a lost answer; only 429 and refused connections are retried.

    **Flex clusters** (``cluster_type="auto"`` finds them from Atlas's answers, or say
    ``"flex"``): every flex restore overwrites its target, so only ``delivery_type="automated"``
    with ``target_cluster_name`` and ``confirm_overwrite=True`` is accepted (``target_group_id``
    optional with ``cluster_type="flex"``; with ``"auto"`` it is required, as the dedicated rules
    are checked before the kind is known); ``"latest"`` is the newest completed flex snapshot by the time it was taken; the
    job is done at ``COMPLETED``. Flex restores cannot be cancelled.

    Lineage (docs/lineage.md): hook lineage and OpenLineage get the source cluster as input and,
    for automated and point-in-time restores, the target cluster as output; no asset.

    :param cluster_name: the cluster whose snapshot is restored. (templated)
    :param delivery_type: ``download`` (default), ``automated`` or ``pointInTime``.
    :param snapshot_id: the snapshot to restore, or ``"latest"`` (default) for the newest completed
        one when the task runs; ignored (``None``) for ``pointInTime`` unless given. A take-snapshot
        task's output (``XComArg``: a mapping with a ``snapshot_id`` key) is accepted too. (templated)
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
    :param wait_for_completion: wait until the job is done and return the sensor's result
        (default ``True``); ``False`` returns the new job at once.
    :param deferrable: wait in the triggerer, not in a worker slot (default: Airflow's
        ``[operators] default_deferrable``, ``False`` unless configured).
    :param poll_interval: seconds between two looks at the job while waiting (default 30).
    :param timeout: seconds to wait before failing (default 86,400: 24 hours).
    :param cancel_on_kill: cancel a pending download restore this task started when the task
        is killed (default ``True``).
    :param include_delivery_urls: put the real download links into XCom, as the sensor does with
        it (default ``False``: each link is ``***`` and the download task resolves fresh ones).
    :param cluster_type: ``"auto"`` (default: ask Atlas), ``"dedicated"`` or ``"flex"``. (templated)
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
        "cluster_type",
    )
    operator_extra_links = (AtlasRestoresLink(),)
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        delivery_type: str = "download",
        snapshot_id: str | Mapping[str, Any] | None = LATEST_SNAPSHOT,
        group_id: str | None = None,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | str | None = None,
        oplog_ts: int | str | None = None,
        oplog_inc: int | str | None = None,
        confirm_overwrite: bool = False,
        allow_fallback_snapshot: bool = False,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        cancel_on_kill: bool = True,
        include_delivery_urls: bool = False,
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.delivery_type = validate_choice(delivery_type, "delivery_type", DELIVERY_TYPES)
        if cluster_type == "flex":  # known now: refused when the DAG loads
            from airflow_provider_atlas_restore.api.flex_endpoints import refuse_delivery_type_on_flex

            refuse_delivery_type_on_flex(self.delivery_type, str(cluster_name))
        self.cluster_type = cluster_type
        if self.delivery_type in _OVERWRITING and confirm_overwrite is not True:
            from airflow_provider_atlas_restore.api.bodies import delivery_type_with_article

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
        self.wait_for_completion = validate_flag(wait_for_completion, "wait_for_completion")
        self.deferrable = validate_flag(deferrable, "deferrable")
        self.poll_interval = validate_positive_seconds(poll_interval, "poll_interval")
        self.timeout = validate_positive_seconds(timeout, "timeout")
        self.cancel_on_kill = validate_flag(cancel_on_kill, "cancel_on_kill")
        self.include_delivery_urls = validate_flag(include_delivery_urls, "include_delivery_urls")
        #: The job this try started or adopted, as (cluster, job id, project, cluster kind): what on_kill cancels.
        self._started_job: tuple[str, str, str, str] | None = None

    def _spec(self, snapshot_id: str | None) -> RestoreJobSpec:
        """Return the restore job's spec from the rendered fields (templated numbers read as ints)."""
        from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec

        return RestoreJobSpec(
            self.delivery_type,
            snapshot_id=snapshot_id,
            target_cluster_name=self.target_cluster_name,
            target_group_id=self.target_group_id,
            point_in_time_utc_seconds=validate_templated_int(
                self.point_in_time_utc_seconds, "point_in_time_utc_seconds"
            ),
            oplog_ts=validate_templated_int(self.oplog_ts, "oplog_ts"),
            oplog_inc=validate_templated_int(self.oplog_inc, "oplog_inc"),
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, adopt an earlier try's job or start one, then wait for it if asked."""
        # Templated values are known only now: check them all before any request or XCom.
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        from airflow_provider_atlas_restore.api.flex_endpoints import (
            flex_restore_job_body,
            refuse_delivery_type_on_flex,
        )

        flex = validate_cluster_type(self.cluster_type) == "flex"
        if flex:
            refuse_delivery_type_on_flex(self.delivery_type, self.cluster_name)
        snapshot_id = (
            None
            if self.snapshot_id is None
            else snapshot_id_from_input(self.snapshot_id, cluster_name=self.cluster_name)
        )
        choose_latest = snapshot_id == LATEST_SNAPSHOT
        spec = self._spec(None if choose_latest else snapshot_id)
        if flex:  # the flex rules: target_group_id optional (the source project by default)
            flex_restore_job_body(
                spec.with_snapshot(_CHOSEN_LATER) if choose_latest else spec, self.cluster_name
            )
        else:  # dedicated, or not known yet ("auto"): the dedicated rules, the stricter ones
            spec.check(snapshot_chosen_later=choose_latest)
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            AtlasRestoresLink.persist(
                context, base_url=hook.config.base_url, group_id=group, cluster_name=self.cluster_name
            )
            ti, dag_run = context.get("ti"), context.get("dag_run")
            job, kind = hook.adopt_or_start_restore_job(
                self.cluster_name,
                spec,
                group,
                try_number=getattr(ti, "try_number", None),
                dag_run_started=getattr(dag_run, "start_date", None) or getattr(dag_run, "queued_at", None),
                choose_latest=choose_latest,
                allow_fallback_snapshot=self.allow_fallback_snapshot,
                cluster_type=self.cluster_type,
            )
            job_id = validate_object_id(job.get("id"), "the new restore job's id")
            self._started_job = (self.cluster_name, job_id, group, kind)
            if not self.wait_for_completion:
                self._record_lineage(hook, job, job_id, group)
                return job
            return self._wait(hook, job_id, group, kind)
        finally:
            hook.close()

    def _wait(self, hook: AtlasHook, job_id: str, group: str, kind: str) -> dict[str, Any]:
        """Wait in the worker (poke) or, when deferrable and not done at the first look, in the triggerer."""
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        outcome, job = hook.wait_for_restore_job(
            self.cluster_name,
            job_id,
            group,
            poll_interval=self.poll_interval,
            timeout=0 if self.deferrable else self.timeout,
            cluster_type=kind,
        )
        if outcome.status is WaitStatus.PENDING and self.deferrable:
            from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

            self.defer(
                trigger=AtlasRestoreJobTrigger(
                    atlas_conn_id=self.atlas_conn_id,
                    group_id=group,
                    cluster_name=self.cluster_name,
                    restore_job_id=job_id,
                    poll_interval=self.poll_interval,
                    timeout_at=time.time() + self.timeout,
                    cluster_kind=kind,
                ),
                method_name="execute_complete",
                # Later than the trigger's own time-out, whose event says more than Airflow's.
                timeout=timedelta(seconds=self.timeout + max(60.0, 2 * self.poll_interval)),
            )
        return self._result(hook, outcome, job, job_id, group)

    def _record_lineage(self, hook: AtlasHook, job: dict[str, Any], job_id: str, group: str) -> None:
        """Report the restore's hook lineage and keep it for OpenLineage (docs/lineage.md)."""
        from airflow_provider_atlas_restore.lineage.restores import record_restore, restore_job_source

        source = restore_job_source(job, job_id, group, self)
        self._lineage = record_restore(hook, source)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage facets: the source cluster in, the target cluster out (none for a download)."""
        from airflow_provider_atlas_restore.lineage.restores import restore_openlineage

        return restore_openlineage(getattr(self, "_lineage", None))

    def _result(
        self, hook: AtlasHook, outcome: WaitOutcome, job: dict[str, Any] | None, job_id: str, group: str
    ) -> dict[str, Any]:
        """Return the sensor's XCom value for a done job (links redacted unless asked); raise for a failed one or when time ran out."""
        from airflow_provider_atlas_restore.models.result import RestoreJobResult
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        if outcome.status is WaitStatus.FAILED:
            raise AirflowFailException(outcome.message)
        if outcome.status is WaitStatus.PENDING or job is None:
            raise AirflowSensorTimeout(
                f"Restore job {job_id} of cluster {self.cluster_name} was not done after timeout="
                f"{self.timeout:.0f} s of waiting; it goes on in Atlas. Last look: {outcome.message}"
            )
        self._record_lineage(hook, job, job_id, group)
        value = RestoreJobResult.from_job(
            job, restore_job_id=job_id, cluster_name=self.cluster_name, group_id=group
        ).to_xcom()
        return value if self.include_delivery_urls else redact_result_links(value)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: read the job afresh (the event has no links) and return the result, or fail."""
        from airflow_provider_atlas_restore.models.wait import evaluate_restore_job

        event = event or {}
        job_id = validate_object_id(event.get("restore_job_id"), "restore_job_id")
        message = str(event.get("message") or "The trigger ended without a message.")
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            kind = _event_kind(event, self.cluster_type)
            self._started_job = (self.cluster_name, job_id, group, kind)
            if event.get("status") not in ("success", "timeout"):
                raise AirflowFailException(message)
            # Done, or time is up: one last look decides, with fresh links.
            job = hook.get_restore_job(self.cluster_name, job_id, group, cluster_type=kind)
            outcome = evaluate_restore_job(
                job, cluster_name=self.cluster_name, now=datetime.now(timezone.utc), restore_job_id=job_id
            )
            self.log.info("%s", outcome.message)
            return self._result(hook, outcome, job, job_id, group)
        finally:
            hook.close()

    def on_kill(self) -> None:
        """Cancel the pending download restore this task started, when ``cancel_on_kill``; log why not otherwise."""
        if self._started_job is None:
            return
        cluster, job_id, group, kind = self._started_job
        if self.delivery_type != "download" or kind == "flex":
            self.log.warning(
                "The task was killed; Atlas cannot cancel restore job %s of cluster %s (%s restore): "
                "it goes on and overwrites the target cluster.",
                job_id,
                cluster,
                self.delivery_type,
            )
            return
        if not self.cancel_on_kill:
            self.log.info("The task was killed; cancel_on_kill=False leaves restore job %s running.", job_id)
            return
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
        from airflow_provider_atlas_restore.models.restore_job_state import RestoreJobState

        # A hook of its own, with few retries: on_kill interrupts execute and must end soon.
        hook = AtlasHook(atlas_conn_id=self.atlas_conn_id, retry_max_attempts=2, retry_max_total_wait=5)
        try:
            state = hook.cancel_restore_job_if_pending(cluster, job_id, group, cluster_type=kind)
        except AtlasApiError as error:
            self.log.warning("The task was killed; cancelling restore job %s failed: %s", job_id, error)
            return
        finally:
            hook.close()
        if state is RestoreJobState.PENDING:
            self.log.info("The task was killed: cancelled its pending download restore job %s.", job_id)
        else:
            self.log.info(
                "The task was killed; restore job %s is %s: nothing to cancel.", job_id, state.value
            )
