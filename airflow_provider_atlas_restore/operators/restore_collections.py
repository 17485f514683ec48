"""The operator that restores chosen databases and collections from a backup into a cluster, and waits for it."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseOperator,
    conf,
)

from airflow_provider_atlas_restore.api.collection_restore_bodies import (
    INDEX_STRATEGIES,
    WRITE_STRATEGIES,
    CollectionRestoreSpec,
)
from airflow_provider_atlas_restore.api.validation import (
    validate_choice,
    validate_cluster_name,
    validate_conn_id,
    validate_flag,
    validate_group_id_or_default,
    validate_object_id,
    validate_positive_seconds,
    validate_templated_int,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.snapshot_choice import LATEST_SNAPSHOT, snapshot_id_from_input

# The job's model and the wait's resource are imported where a task runs, not when a DAG file
# is parsed (benchmark figure 4p).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.models.wait import WaitOutcome

#: Seconds between two looks at the job while waiting.
DEFAULT_POLL_INTERVAL = 30.0
#: Seconds to wait for the restore before failing: 24 hours.
DEFAULT_TIMEOUT = 24 * 60 * 60.0
#: A project id that stands for the connection's when the spec is checked before the hook exists.
_SOME_GROUP = "0" * 24


def _hook(atlas_conn_id: str) -> AtlasHook:
    """Return a new hook; imported only when a task runs, as the hook brings the HTTP client."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    return AtlasHook(atlas_conn_id=atlas_conn_id)


def _known_now(value: Any) -> bool:
    """Return whether a parameter is plain data without a Jinja template or a task's output (checked once rendered)."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return "{{" not in value
    if isinstance(value, Mapping):
        return all(_known_now(key) and _known_now(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return all(_known_now(item) for item in value)
    return False


class AtlasRestoreCollectionsOperator(BaseOperator):
    """
    Restore chosen databases and collections of a dedicated cluster's backup into a cluster and, by default, wait.

    The source is a snapshot (an id, ``"latest"``, or a take-snapshot task's output) or a point
    in time. ``databases`` and ``collections`` list namespaces, each a ``"sales.orders"`` text
    or a ``{"source": ..., "target": ...}`` dict to restore under another name; they are
    checked as MongoDB namespaces before any request. ``write_strategy="OVERWRITE_EXISTING"``
    drops and replaces the target namespaces, so it needs ``confirm_overwrite=True`` (without it
    the DAG fails to load).

    While waiting, the log gives the documents restored of the total, each change once. A
    ``FAILED`` or ``CANCELED`` job fails the task at once with Atlas's reason and the
    collections that were not restored (read from the job's ``/collections``); so does
    ``timeout`` (the restore goes on in Atlas); neither is retried. A retry never starts a
    second job for the same request: a later try adopts the newest job of the same source,
    target, strategy and namespaces created since the DAG run began (less 60 s) and not failed.
    Atlas has no cancel for collection restores: ``on_kill`` says so in the log.

    :param cluster_name: the source cluster (whose backup is restored). (templated)
    :param target_cluster_name: the cluster to restore into. (templated)
    :param snapshot_id: the snapshot to restore from: an id, ``"latest"`` or a take-snapshot
        task's output; or give ``point_in_time_utc_seconds``. (templated)
    :param point_in_time_utc_seconds: the moment to restore to, seconds since the epoch. (templated)
    :param databases: whole databases to restore (names or source/target dicts), at most 100. (templated)
    :param collections: collections to restore (``db.collection`` or source/target dicts), at most 100. (templated)
    :param write_strategy: ``CREATE_NEW`` (default) or ``OVERWRITE_EXISTING``.
    :param index_strategy: ``ALL`` (default), ``NONE`` or ``ALL_EXCEPT_TTL``.
    :param database_suffix: appended to restored database names. (templated)
    :param collection_suffix: appended to restored collection names. (templated)
    :param confirm_overwrite: must be ``True`` with ``OVERWRITE_EXISTING``.
    :param target_group_id: the target cluster's project; defaults to the source's. (templated)
    :param group_id: the source project; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param wait_for_completion: wait until the job is ``SUCCESSFUL`` (default ``True``);
        ``False`` returns the new job at once.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between two looks at the job (default 30).
    :param timeout: seconds to wait before failing (default 86,400: 24 hours).

    Lineage (docs/lineage.md): hook lineage and OpenLineage get the source cluster as input and
    each target ``<cluster>/<namespace>`` (only the cluster, with a suffix) as output; no asset.
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "target_cluster_name",
        "snapshot_id",
        "point_in_time_utc_seconds",
        "databases",
        "collections",
        "database_suffix",
        "collection_suffix",
        "target_group_id",
        "group_id",
        "atlas_conn_id",
    )
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        target_cluster_name: str,
        snapshot_id: str | Mapping[str, Any] | None = None,
        point_in_time_utc_seconds: int | str | None = None,
        databases: Sequence[Any] | None = None,
        collections: Sequence[Any] | None = None,
        write_strategy: str = "CREATE_NEW",
        index_strategy: str = "ALL",
        database_suffix: str | None = None,
        collection_suffix: str | None = None,
        confirm_overwrite: bool = False,
        target_group_id: str | None = None,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.write_strategy = validate_choice(write_strategy, "write_strategy", WRITE_STRATEGIES)
        self.index_strategy = validate_choice(index_strategy, "index_strategy", INDEX_STRATEGIES)
        self.confirm_overwrite = validate_flag(confirm_overwrite, "confirm_overwrite")
        if (snapshot_id is None) == (point_in_time_utc_seconds is None):
            raise AtlasInputError(
                "A collection restore restores from exactly one of snapshot_id (an id, 'latest' or a "
                "take-snapshot task's output) or point_in_time_utc_seconds: "
                + ("both were given." if snapshot_id is not None else "neither was given.")
            )
        self.cluster_name = cluster_name
        self.target_cluster_name = target_cluster_name
        self.snapshot_id = snapshot_id
        self.point_in_time_utc_seconds = point_in_time_utc_seconds
        self.databases = databases
        self.collections = collections
        self.database_suffix = database_suffix
        self.collection_suffix = collection_suffix
        self.target_group_id = target_group_id
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.wait_for_completion = validate_flag(wait_for_completion, "wait_for_completion")
        self.deferrable = validate_flag(deferrable, "deferrable")
        self.poll_interval = validate_positive_seconds(poll_interval, "poll_interval")
        self.timeout = validate_positive_seconds(timeout, "timeout")
        #: The last progress line logged, so each change is logged once.
        self._progress_logged: str | None = None
        arguments = (target_cluster_name, snapshot_id, point_in_time_utc_seconds, databases, collections)
        if all(_known_now(value) for value in (*arguments, database_suffix, collection_suffix)):
            self._spec(None, _SOME_GROUP).to_body()  # known now: refused when the DAG loads

    def _spec(self, snapshot_id: str | None, target_group_id: str) -> CollectionRestoreSpec:
        """Return the restore's spec from the rendered fields (``"latest"`` stands in as a checked id)."""
        if snapshot_id is None and self.snapshot_id is not None:
            snapshot_id = snapshot_id_from_input(self.snapshot_id, cluster_name=self.cluster_name)
        return CollectionRestoreSpec(
            target_cluster_name=self.target_cluster_name,
            target_group_id=target_group_id,
            collections=self.collections,
            databases=self.databases,
            snapshot_id=_SOME_GROUP if snapshot_id == LATEST_SNAPSHOT else snapshot_id,
            point_in_time_utc_seconds=validate_templated_int(
                self.point_in_time_utc_seconds, "point_in_time_utc_seconds"
            ),
            write_strategy=self.write_strategy,
            index_strategy=self.index_strategy,
            database_suffix=self.database_suffix,
            collection_suffix=self.collection_suffix,
            confirm_overwrite=self.confirm_overwrite,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, adopt an earlier try's job or start one, then wait for it if asked."""
        # Templated values are known only now: check them all before any request.
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        validate_group_id_or_default(self.target_group_id, "target_group_id")
        snapshot = (
            snapshot_id_from_input(self.snapshot_id, cluster_name=self.cluster_name)
            if self.snapshot_id is not None
            else None
        )
        self._spec(snapshot, self.target_group_id or _SOME_GROUP).to_body()
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            if snapshot == LATEST_SNAPSHOT:
                snapshot = str(hook.latest_completed_snapshot(self.cluster_name, group)["id"])
            spec = self._spec(snapshot, self.target_group_id or group)
            job = self._adopt(hook, group, spec, context)
            if job is None:
                job = hook.create_collection_restore_job(self.cluster_name, spec, group)
            job_id = validate_object_id(job.get("id"), "the new collection restore job's id")
            if not self.wait_for_completion:
                self._record_lineage(hook, job, job_id, group)
                return self._xcom(job, job_id, group)
            return self._wait(hook, job_id, group)
        finally:
            hook.close()

    def _adopt(
        self, hook: AtlasHook, group: str, spec: CollectionRestoreSpec, context: Context
    ) -> dict[str, Any] | None:
        """Return the job an earlier try of this task instance started, or ``None`` (always on a first try)."""
        from airflow_provider_atlas_restore.hooks.restore_job_waits import earliest_start_of_earlier_tries

        ti, dag_run = context.get("ti"), context.get("dag_run")
        since = earliest_start_of_earlier_tries(
            getattr(ti, "try_number", None),
            getattr(dag_run, "start_date", None) or getattr(dag_run, "queued_at", None),
        )
        if since is None:
            return None
        return hook.find_collection_restore_job_to_adopt(self.cluster_name, spec, group, created_since=since)

    def _log_progress(self, job: Mapping[str, Any], job_id: str) -> None:
        """Log the documents restored of the total when they changed since the last line."""
        from airflow_provider_atlas_restore.models.collection_restore_job import CollectionRestoreJob

        view = CollectionRestoreJob.from_api(job)
        progress = view.progress()
        line = f"{view.state.value if view.state else '?'}: {progress}" if progress else None
        if line is not None and line != self._progress_logged:
            self._progress_logged = line
            self.log.info("Collection restore job %s is %s", job_id, line)

    def _wait(self, hook: AtlasHook, job_id: str, group: str) -> dict[str, Any]:
        """Wait in the worker (poke) or, when deferrable and not done at the first look, in the triggerer."""
        from airflow_provider_atlas_restore.api.watched_resources import (
            WatchedCollectionRestoreJob,
        )
        from airflow_provider_atlas_restore.models.collection_restore_job import CollectionRestoreState
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        resource = WatchedCollectionRestoreJob(group, self.cluster_name, job_id)

        def read() -> dict[str, Any]:
            job = hook.get_collection_restore_job(self.cluster_name, job_id, group)
            self._log_progress(job, job_id)
            return job

        outcome, job = hook.wait_for_resource(
            resource,
            poll_interval=self.poll_interval,
            timeout=0 if self.deferrable else self.timeout,
            first_state=CollectionRestoreState.INITIALIZING,
            read=read,
        )
        if outcome.status is WaitStatus.PENDING and self.deferrable:
            from airflow_provider_atlas_restore.triggers.polling import resource_deferral

            self.defer(
                **resource_deferral(
                    atlas_conn_id=self.atlas_conn_id,
                    resource=resource,
                    poll_interval=self.poll_interval,
                    deadline=time.time() + self.timeout,
                )
            )
        return self._result(hook, outcome, job, job_id, group)

    def _result(
        self, hook: AtlasHook, outcome: WaitOutcome, job: dict[str, Any] | None, job_id: str, group: str
    ) -> dict[str, Any]:
        """Return the job's XCom value when it succeeded; raise with the failed collections, or when time ran out."""
        from airflow_provider_atlas_restore.models.collection_restore_job import (
            evaluate_collection_restore_job,
        )
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        if outcome.status is WaitStatus.FAILED and job is not None:
            collections = hook.list_restored_collections(self.cluster_name, job_id, group)
            failed = evaluate_collection_restore_job(
                job, cluster_name=self.cluster_name, job_id=job_id, collections=collections
            )
            raise AirflowFailException(failed.message)
        if outcome.status is WaitStatus.PENDING or job is None:
            raise AirflowSensorTimeout(
                f"Collection restore job {job_id} of cluster {self.cluster_name} was not done after "
                f"timeout={self.timeout:.0f} s of waiting; it goes on in Atlas. Last look: {outcome.message}"
            )
        self._record_lineage(hook, job, job_id, group)
        return self._xcom(job, job_id, group)

    def _record_lineage(self, hook: AtlasHook, job: Mapping[str, Any], job_id: str, group: str) -> None:
        """Report the restore's hook lineage and keep it for OpenLineage (docs/lineage.md)."""
        from airflow_provider_atlas_restore.lineage.restores import collection_restore_source, record_restore

        source = collection_restore_source(
            job,
            cluster_name=self.cluster_name,
            group_id=group,
            job_id=job_id,
            target_cluster_name=self.target_cluster_name,
            target_group_id=self.target_group_id,
            namespaces=[*(self.databases or ()), *(self.collections or ())],
            suffixed=bool(self.database_suffix or self.collection_suffix),
        )
        self._lineage = record_restore(hook, source)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage facets: the source cluster in, each target namespace (or the cluster) out."""
        from airflow_provider_atlas_restore.lineage.restores import restore_openlineage

        return restore_openlineage(getattr(self, "_lineage", None))

    def _xcom(self, job: Mapping[str, Any], job_id: str, group: str) -> dict[str, Any]:
        from airflow_provider_atlas_restore.models.collection_restore_job import CollectionRestoreResult

        return CollectionRestoreResult.from_job(
            job, collection_restore_job_id=job_id, cluster_name=self.cluster_name, group_id=group
        ).to_xcom()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: read the job afresh and return the result, or fail naming the collections."""
        from airflow_provider_atlas_restore.models.collection_restore_job import (
            evaluate_collection_restore_job,
        )

        event = event or {}
        job_id = validate_object_id(event.get("job_id"), "job_id")
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            if event.get("status") not in ("success", "timeout", "failure") or (
                event.get("status") == "failure" and event.get("state") is None
            ):
                raise AirflowFailException(
                    str(event.get("message") or "The trigger ended without a message.")
                )
            job = hook.get_collection_restore_job(self.cluster_name, job_id, group)
            outcome = evaluate_collection_restore_job(job, cluster_name=self.cluster_name, job_id=job_id)
            self.log.info("%s", outcome.message)
            return self._result(hook, outcome, job, job_id, group)
        finally:
            hook.close()

    def on_kill(self) -> None:
        """Say that the restore goes on: Atlas has no cancel for collection restore jobs."""
        self.log.warning(
            "The task was killed; Atlas has no cancel for collection restore jobs: a restore this task "
            "started goes on in Atlas and writes to target cluster %s, and a retry of this task adopts it.",
            self.target_cluster_name,
        )
