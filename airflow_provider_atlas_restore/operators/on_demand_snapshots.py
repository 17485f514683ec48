"""The operator that takes (and waits for) an on-demand Cloud Backup snapshot of a dedicated cluster."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseOperator,
    conf,
)

from airflow_provider_atlas_restore.api.validation import (
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
from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasSnapshotInProgressError,
)

# The snapshot's spec, model and watched resource, the wait and the flex rules are imported where
# a task runs (the flex rules also where a flex cluster is named), not when a DAG file is parsed
# (benchmark figure 4p).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.api.backup_bodies import OnDemandSnapshotSpec
    from airflow_provider_atlas_restore.api.watched_resources import WatchedSnapshot
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.models.wait import WaitOutcome

#: What the take-snapshot task does when another on-demand snapshot of the cluster is running.
IF_IN_PROGRESS = ("wait", "adopt", "fail")
#: What a task waits for while another snapshot runs, for the timeout message.
_RUNNING_ONE = "it to end, so this task took no snapshot of its own"
#: Seconds between two looks at a snapshot being taken.
DEFAULT_POLL_INTERVAL = 30.0
#: Seconds the take-snapshot task waits before failing: 24 hours.
DEFAULT_TIMEOUT = 24 * 60 * 60.0


def _hook(atlas_conn_id: str) -> AtlasHook:
    """Return a new hook; imported only when a task runs, as the hook brings the HTTP client."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    return AtlasHook(atlas_conn_id=atlas_conn_id)


#: What Atlas lacks for flex clusters, for the refusal of ``cluster_type="flex"``.
FLEX_LACKS = "on-demand snapshots"


class AtlasTakeSnapshotOperator(BaseOperator):
    """
    Take an on-demand snapshot of a dedicated cluster and, by default, wait until it is ``completed``.

    Atlas takes one on-demand snapshot per cluster at a time. When one is running already,
    ``if_in_progress`` decides: ``"wait"`` (default) waits for it to end, then takes this task's
    own; ``"adopt"`` waits for the running one and returns it as this task's; ``"fail"`` fails at
    once, naming it. A ``failed`` snapshot fails the task at once (no retry helps); so does
    ``timeout`` (the snapshot goes on in Atlas). It looks once before deferring.

    A retry never takes a second snapshot: a later try (``try_number`` > 1) adopts the newest
    on-demand snapshot of the cluster with the same ``description`` requested since the DAG run
    began (less 60 s), unless it failed. Returns (XCom)
    :meth:`~airflow_provider_atlas_restore.models.snapshot.SnapshotResult.to_xcom`: ``snapshot_id``,
    ``status``, ``created_at``, ``expires_at``, ``storage_size_bytes``...; the restore, export and
    delete tasks accept it as their ``snapshot_id``.

    **Flex clusters** have no on-demand snapshots: ``cluster_type="flex"`` fails when the DAG
    loads; with ``"auto"`` Atlas's answer to the request (``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API``)
    fails the task with :class:`~airflow_provider_atlas_restore.exceptions.AtlasClusterKindError`.
    Sharded clusters are read at ``.../snapshots/shardedCluster/{id}``, as the answer's ``type`` says.

    :param cluster_name: the dedicated cluster. (templated)
    :param description: what the snapshot is for, shown in Atlas; a retry adopts by it. (templated)
    :param retention_in_days: days Atlas keeps the snapshot, at least 1 (default 1). (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param wait_for_completion: wait until the snapshot is completed (default ``True``);
        ``False`` returns it ``queued``.
    :param deferrable: wait in the triggerer, not in a worker slot (default: Airflow's
        ``[operators] default_deferrable``).
    :param poll_interval: seconds between two looks while waiting (default 30).
    :param timeout: seconds to wait in all, for a running snapshot and this one (default 86,400).
    :param if_in_progress: ``"wait"`` (default), ``"adopt"`` or ``"fail"``: see above.
    :param cluster_type: ``"auto"`` (default), ``"dedicated"``; ``"flex"`` is refused. (templated)
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "description",
        "retention_in_days",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    )
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        description: str | None = None,
        retention_in_days: int | str = 1,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        if_in_progress: str = "wait",
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if cluster_type == "flex":  # known now: refused when the DAG loads
            from airflow_provider_atlas_restore.api.flex_endpoints import refuse_flex_cluster

            refuse_flex_cluster(type(self).__name__, cluster_name, FLEX_LACKS)
        self.cluster_name = cluster_name
        self.description = description
        self.retention_in_days = retention_in_days
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.wait_for_completion = validate_flag(wait_for_completion, "wait_for_completion")
        self.deferrable = validate_flag(deferrable, "deferrable")
        self.poll_interval = validate_positive_seconds(poll_interval, "poll_interval")
        self.timeout = validate_positive_seconds(timeout, "timeout")
        self.if_in_progress = validate_choice(if_in_progress, "if_in_progress", IF_IN_PROGRESS)
        self.cluster_type = cluster_type
        #: The snapshot this try took or adopted, for on_kill's log line.
        self._snapshot_id: str | None = None

    def _spec(self) -> OnDemandSnapshotSpec:
        """Return the snapshot's spec from the rendered fields, checked."""
        from airflow_provider_atlas_restore.api.backup_bodies import OnDemandSnapshotSpec

        retention = validate_templated_int(self.retention_in_days, "retention_in_days")
        spec = OnDemandSnapshotSpec(self.description, 1 if retention is None else retention)
        spec.to_body()
        return spec

    def _check(self) -> OnDemandSnapshotSpec:
        """Check every rendered input before any request."""
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        if validate_cluster_type(self.cluster_type) == "flex":
            from airflow_provider_atlas_restore.api.flex_endpoints import refuse_flex_cluster

            refuse_flex_cluster(type(self).__name__, self.cluster_name, FLEX_LACKS)
        validate_conn_id(self.atlas_conn_id)
        return self._spec()

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, adopt an earlier try's snapshot or take one, then wait for it if asked."""
        spec = self._check()
        deadline = time.time() + self.timeout
        hook = _hook(self.atlas_conn_id)
        try:
            group = hook.resolve_group_id(self.group_id or None)
            ti, dag_run = context.get("ti"), context.get("dag_run")
            snapshot = hook.find_snapshot_of_an_earlier_try(
                self.cluster_name,
                group,
                description=spec.description,
                try_number=getattr(ti, "try_number", None),
                dag_run_started=getattr(dag_run, "start_date", None) or getattr(dag_run, "queued_at", None),
            )
            if snapshot is None:
                snapshot = self._take(hook, spec, group, deadline)
            return self._wait(hook, snapshot, group, deadline)
        finally:
            hook.close()

    def _take(
        self, hook: AtlasHook, spec: OnDemandSnapshotSpec, group: str, deadline: float
    ) -> dict[str, Any]:
        """
        Take the snapshot; when one is running, wait for it, adopt it or fail, as ``if_in_progress`` says.

        A 400 or 409 while no on-demand snapshot runs (the one Atlas refused for may have just
        ended) is asked once more before it fails the task.
        """
        from airflow_provider_atlas_restore.api.watched_resources import WatchedSnapshot

        asked_again, waited_for = False, set[str]()
        while True:
            try:
                return hook.take_snapshot(
                    self.cluster_name,
                    group,
                    description=spec.description,
                    retention_in_days=spec.retention_in_days,
                )
            except AtlasApiError as refused:
                if refused.status not in (400, 409) or asked_again:
                    raise
                asked_again = True
                self.log.warning(
                    "Atlas refused the snapshot and no on-demand snapshot of cluster %s runs now (the "
                    "one it refused for may have just ended): asking once more. %s",
                    self.cluster_name,
                    refused,
                )
            except AtlasSnapshotInProgressError as running:
                if running.snapshot_id is None:
                    raise
                running_id = running.snapshot_id
                if self.if_in_progress == "fail":
                    raise AirflowFailException(
                        f"{running} if_in_progress='fail': this task takes none. Use "
                        "if_in_progress='wait' to take one after it, or 'adopt' to use it."
                    ) from running
                if self.if_in_progress == "adopt":
                    self.log.info(
                        "On-demand snapshot %s of cluster %s is %s: adopting it (if_in_progress='adopt').",
                        running_id,
                        self.cluster_name,
                        running.status,
                    )
                    return hook.get_snapshot(self.cluster_name, running_id, group, sharded=running.sharded)
                if running_id in waited_for:  # ended by its own read, still running by the list
                    if time.time() >= deadline:
                        self._time_is_up(running_id, _RUNNING_ONE)
                    time.sleep(self.poll_interval)
                    continue
                waited_for.add(running_id)
                self.log.info(
                    "On-demand snapshot %s of cluster %s is %s and Atlas takes one at a time: waiting "
                    "for it to end, then taking this task's (if_in_progress='wait').",
                    running_id,
                    self.cluster_name,
                    running.status,
                )
                self._wait_for_running(
                    hook, WatchedSnapshot(group, self.cluster_name, running_id, running.sharded), deadline
                )

    def _wait_for_running(self, hook: AtlasHook, watched: WatchedSnapshot, deadline: float) -> None:
        """Wait until another snapshot has ended (here, or by deferring to ``execute_after_running``)."""
        from airflow_provider_atlas_restore.models.snapshot import SnapshotStatus
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        left = max(0.0, deadline - time.time())
        outcome, _ = hook.wait_for_resource(
            watched,
            poll_interval=self.poll_interval,
            timeout=0 if self.deferrable else left,
            first_state=SnapshotStatus.QUEUED,
        )
        if outcome.status is not WaitStatus.PENDING:
            return
        if self.deferrable and left > 0:
            self._defer(watched, deadline, "execute_after_running")
        self._time_is_up(watched.snapshot_id, _RUNNING_ONE)

    def _defer(self, watched: WatchedSnapshot, deadline: float, method_name: str) -> NoReturn:
        """Wait for ``watched`` in the triggerer, then resume in ``method_name``."""
        from airflow_provider_atlas_restore.triggers.polling import resource_deferral

        self.defer(
            **resource_deferral(
                atlas_conn_id=self.atlas_conn_id,
                resource=watched,
                poll_interval=self.poll_interval,
                deadline=deadline,
                method_name=method_name,
                kwargs={"deadline": deadline},
            )
        )

    def _time_is_up(self, snapshot_id: str, waited_for: str) -> NoReturn:
        raise AirflowSensorTimeout(
            f"On-demand snapshot {snapshot_id} of cluster {self.cluster_name} was not done after "
            f"timeout={self.timeout:.0f} s of waiting for {waited_for}; it goes on in Atlas."
        )

    def execute_after_running(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Resume once the running snapshot has ended (or time is up): take this task's, then wait for it."""
        event = event or {}
        running_id = validate_object_id(event.get("snapshot_id"), "snapshot_id")
        if event.get("status") == "timeout":
            self._time_is_up(running_id, _RUNNING_ONE)
        self.log.info("On-demand snapshot %s ended: %s", running_id, event.get("message"))
        spec = self._check()
        deadline = deadline if deadline is not None else time.time() + self.timeout
        hook = _hook(self.atlas_conn_id)
        try:
            group = hook.resolve_group_id(self.group_id or None)
            snapshot = self._take(hook, spec, group, deadline)
            return self._wait(hook, snapshot, group, deadline)
        finally:
            hook.close()

    def _wait(self, hook: AtlasHook, snapshot: dict[str, Any], group: str, deadline: float) -> dict[str, Any]:
        """Wait until the snapshot is completed: in the worker, or in the triggerer when it is not at the first look."""
        from airflow_provider_atlas_restore.api.watched_resources import WatchedSnapshot
        from airflow_provider_atlas_restore.models.snapshot import Snapshot, SnapshotStatus
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        snapshot_id = validate_object_id(snapshot.get("id"), "the snapshot's id")
        self._snapshot_id = snapshot_id
        view = Snapshot.from_api(snapshot)
        if not self.wait_for_completion:
            return self._result_value(snapshot, snapshot_id, group)
        watched = WatchedSnapshot(group, self.cluster_name, snapshot_id, view.is_sharded)
        left = max(0.0, deadline - time.time())
        outcome, answer = hook.wait_for_resource(
            watched,
            poll_interval=self.poll_interval,
            timeout=0 if self.deferrable else left,
            first_state=view.status or SnapshotStatus.QUEUED,
        )
        if outcome.status is WaitStatus.PENDING and self.deferrable and left > 0:
            self._defer(watched, deadline, "execute_complete")
        return self._result(outcome, answer, snapshot_id, group)

    def _result_value(self, snapshot: dict[str, Any], snapshot_id: str, group: str) -> dict[str, Any]:
        from airflow_provider_atlas_restore.models.snapshot import SnapshotResult

        return SnapshotResult.from_snapshot(
            snapshot, snapshot_id=snapshot_id, cluster_name=self.cluster_name, group_id=group
        ).to_xcom()

    def _result(
        self, outcome: WaitOutcome, snapshot: dict[str, Any] | None, snapshot_id: str, group: str
    ) -> dict[str, Any]:
        """Return the XCom value of a completed snapshot; raise for a failed one or when time ran out."""
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        if outcome.status is WaitStatus.FAILED:
            raise AirflowFailException(outcome.message)
        if outcome.status is WaitStatus.PENDING or snapshot is None:
            self._time_is_up(snapshot_id, f"it to complete. Last look: {outcome.message}")
        return self._result_value(snapshot, snapshot_id, group)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger: read the snapshot once more and return it, or fail."""
        from airflow_provider_atlas_restore.models.snapshot import evaluate_snapshot

        event = event or {}
        snapshot_id = validate_object_id(event.get("snapshot_id"), "snapshot_id")
        self._snapshot_id = snapshot_id
        if event.get("status") not in ("success", "timeout"):
            raise AirflowFailException(str(event.get("message") or "The trigger ended without a message."))
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            sharded = validate_flag(event.get("sharded", False), "sharded")
            snapshot = hook.get_snapshot(self.cluster_name, snapshot_id, group, sharded=sharded)
            outcome = evaluate_snapshot(snapshot, cluster_name=self.cluster_name, snapshot_id=snapshot_id)
            self.log.info("%s", outcome.message)
            return self._result(outcome, snapshot, snapshot_id, group)
        finally:
            hook.close()

    def on_kill(self) -> None:
        """Say that the snapshot goes on: Atlas cannot cancel one, and a retry adopts it."""
        if self._snapshot_id is not None:
            self.log.warning(
                "The task was killed; Atlas cannot cancel on-demand snapshot %s of cluster %s: it goes "
                "on, and a retry of this task adopts it.",
                self._snapshot_id,
                self.cluster_name,
            )
