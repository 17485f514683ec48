"""The operator that exports a dedicated cluster's snapshot into an export bucket and waits until it is there."""

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

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_flag,
    validate_group_id_or_default,
    validate_object_id,
    validate_positive_seconds,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasClusterKindError, AtlasInputError
from airflow_provider_atlas_restore.lineage.assets import export_asset_alias
from airflow_provider_atlas_restore.models.snapshot_choice import LATEST_SNAPSHOT, snapshot_id_from_input
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

# The export job's model and the wait's resource are imported where a task runs, not when a DAG
# file is parsed (benchmark figure 4p).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.models.wait import WaitOutcome

#: Seconds between two looks at the export job while waiting.
DEFAULT_POLL_INTERVAL = 30.0
#: Seconds to wait for the export before failing: 24 hours.
DEFAULT_TIMEOUT = 24 * 60 * 60.0


def _hook(atlas_conn_id: str) -> AtlasHook:
    """Return a new hook; imported only when a task runs, as the hook brings the HTTP client."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    return AtlasHook(atlas_conn_id=atlas_conn_id)


def _refuse_flex(cluster_name: str) -> None:
    raise AtlasClusterKindError(
        f"Cluster {cluster_name} is a flex cluster: Atlas has no snapshot export for flex clusters "
        "(exports exist for dedicated clusters only). Download the flex snapshot with "
        "AtlasDownloadSnapshotOperator instead."
    )


def _check_bucket_choice(export_bucket_id: Any, bucket_name: Any) -> None:
    if (export_bucket_id is None) == (bucket_name is None):
        raise AtlasInputError(
            "Give exactly one of export_bucket_id (the export bucket's id) or bucket_name (the S3 or GCS "
            "bucket, or Azure container, of one export bucket of the project): "
            + ("both were given." if export_bucket_id is not None else "neither was given.")
        )


class AtlasExportSnapshotOperator(BaseOperator):
    """
    Export a completed snapshot of a dedicated cluster into an export bucket and, by default, wait until it is there.

    Atlas writes the export into the bucket itself (nothing passes through the worker). The
    task returns (XCom) the export job: its bucket, ``prefix`` and, for AWS, GCP and Azure
    buckets, ``uri`` (``s3://bucket/prefix``, ``gs://``, ``abfs://``) for ``ObjectStoragePath``;
    a sharded cluster's export lists one component per shard. A ``Failed`` or ``Cancelled``
    export fails the task at once with Atlas's reason; so does ``timeout`` (the export goes on
    in Atlas); neither is retried. Atlas's ``exportStatus`` counts stay 0 even on success, so
    no progress is reported.

    Lineage (docs/lineage.md): the export's asset is ``s3://bucket/exported_snapshots/<org id>/
    <project id>/<cluster>/`` (``gs://``, ``abfs://``), whose org id and scheme Atlas tells only at
    run time, so unless ``outlets`` are given the task declares (on Airflow 3) the asset alias
    ``atlas-export:<cluster>:<bucket>`` and each successful run emits, through it, one event of
    that asset; on 2.11 give ``outlets=[Dataset(...)]``. That event's extra, and the extra of
    the events of the ``outlets`` you give, hold the export's URI, cluster, snapshot and export
    job. The export is reported to hook lineage and OpenLineage.

    A retry never starts a second export for the same request: a later try looks for an export
    job of the same snapshot (any, for ``"latest"``) into the same bucket created since the DAG
    run began, less 60 s, and adopts the newest one not failed. Atlas has no cancel for exports.

    Flex clusters have no export API: the task fails with
    :class:`~airflow_provider_atlas_restore.exceptions.AtlasClusterKindError` before any export
    request (with ``cluster_type="flex"``, when the DAG loads).

    :param cluster_name: the dedicated cluster whose snapshot is exported. (templated)
    :param snapshot_id: a snapshot id, ``"latest"`` (default: the newest completed one when the
        task runs), or a take-snapshot task's output (a mapping with ``snapshot_id``). (templated)
    :param export_bucket_id: the export bucket's id (its ``_id``); or give ``bucket_name``. (templated)
    :param bucket_name: the bucket's name, looked up among the project's export buckets; exactly
        one must match. (templated)
    :param custom_data: text keys and values for the metadata file Atlas writes with the export. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param wait_for_completion: wait until the export is ``Successful`` (default ``True``);
        ``False`` returns the new export job at once.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between two looks at the export job (default 30).
    :param timeout: seconds to wait before failing (default 86,400: 24 hours).
    :param cluster_type: ``"auto"`` (default: ask Atlas), ``"dedicated"`` or ``"flex"`` (refused). (templated)
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "snapshot_id",
        "export_bucket_id",
        "bucket_name",
        "custom_data",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    )
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        snapshot_id: str | Mapping[str, Any] = LATEST_SNAPSHOT,
        export_bucket_id: str | None = None,
        bucket_name: str | None = None,
        custom_data: Mapping[str, str] | None = None,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        # Not on 2.11: its dag.test() stores no DatasetAlias, and an event through an unknown alias
        # fails the task ("Can't flush None value found in collection DatasetModel.aliases").
        if AIRFLOW_V_3_0_PLUS and not kwargs.get("outlets"):
            kwargs["outlets"] = [export_asset_alias(cluster_name, bucket_name or export_bucket_id)]
        super().__init__(**kwargs)
        _check_bucket_choice(export_bucket_id, bucket_name)
        if cluster_type == "flex":  # known now: refused when the DAG loads
            _refuse_flex(str(cluster_name))
        if isinstance(custom_data, Mapping) and not any("{{" in str(item) for item in custom_data.values()):
            from airflow_provider_atlas_restore.api.backup_bodies import validate_custom_data

            validate_custom_data(custom_data)
        self.cluster_name = cluster_name
        self.snapshot_id = snapshot_id
        self.export_bucket_id = export_bucket_id
        self.bucket_name = bucket_name
        self.custom_data = custom_data
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.wait_for_completion = validate_flag(wait_for_completion, "wait_for_completion")
        self.deferrable = validate_flag(deferrable, "deferrable")
        self.poll_interval = validate_positive_seconds(poll_interval, "poll_interval")
        self.timeout = validate_positive_seconds(timeout, "timeout")
        self.cluster_type = cluster_type

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, find the bucket and snapshot, adopt an earlier try's export or start one, then wait."""
        # Templated values are known only now: check them all before any request.
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        _check_bucket_choice(self.export_bucket_id, self.bucket_name)
        if self.export_bucket_id is not None:
            validate_object_id(self.export_bucket_id, "export_bucket_id")
        from airflow_provider_atlas_restore.api.backup_bodies import ExportJobSpec, validate_custom_data

        custom_data = validate_custom_data(self.custom_data)
        snapshot = snapshot_id_from_input(self.snapshot_id, cluster_name=self.cluster_name)
        if validate_cluster_type(self.cluster_type) == "flex":
            _refuse_flex(self.cluster_name)
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            if hook.is_flex_cluster(self.cluster_name, group, self.cluster_type):
                _refuse_flex(self.cluster_name)
            bucket = self._bucket(hook, group)
            from airflow_provider_atlas_restore.models.export_bucket import ExportBucket

            bucket_id = validate_object_id(ExportBucket.from_api(bucket).id, "the export bucket's _id")
            job = self._adopt(hook, group, bucket_id, snapshot, context)
            if job is None:
                if snapshot == LATEST_SNAPSHOT:
                    snapshot = str(hook.latest_completed_snapshot(self.cluster_name, group)["id"])
                job = hook.create_export_job(
                    self.cluster_name, ExportJobSpec(snapshot, bucket_id, custom_data), group_id=group
                )
            export_id = validate_object_id(job.get("id"), "the new export job's id")
            if not self.wait_for_completion:
                return self._xcom(job, export_id, group, bucket)
            return self._record_lineage(context, hook, self._wait(hook, export_id, group, bucket))
        finally:
            hook.close()

    def _record_lineage(self, context: Context, hook: AtlasHook, value: dict[str, Any]) -> dict[str, Any]:
        """Put a successful export's extra on its outlets' events, report its hook lineage; return ``value``."""
        from airflow_provider_atlas_restore.lineage.restores import record_export

        self._lineage = (record_export(context, self.outlets, hook, value), value.get("uri"))
        return value

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage facets of the run: the cluster in, the export's folder out (docs/lineage.md)."""
        source, uri = getattr(self, "_lineage", (None, None))
        if source is None:
            return None
        from airflow_provider_atlas_restore.lineage.openlineage import export_lineage

        return export_lineage(source, uri)

    def _bucket(self, hook: AtlasHook, group: str) -> dict[str, Any]:
        """Return the export bucket: read by id, or found by name among the project's buckets."""
        if self.export_bucket_id is not None:
            return hook.get_export_bucket(self.export_bucket_id, group)
        return hook.find_export_bucket(str(self.bucket_name), group)

    def _adopt(
        self, hook: AtlasHook, group: str, bucket_id: str, snapshot: str, context: Context
    ) -> dict[str, Any] | None:
        """Return the export an earlier try of this task instance started, or ``None`` (always on a first try)."""
        from airflow_provider_atlas_restore.hooks.restore_job_waits import earliest_start_of_earlier_tries

        ti, dag_run = context.get("ti"), context.get("dag_run")
        since = earliest_start_of_earlier_tries(
            getattr(ti, "try_number", None),
            getattr(dag_run, "start_date", None) or getattr(dag_run, "queued_at", None),
        )
        if since is None:
            return None
        return hook.find_export_job_to_adopt(
            self.cluster_name,
            bucket_id,
            group,
            created_since=since,
            snapshot_id=None if snapshot == LATEST_SNAPSHOT else snapshot,
        )

    def _wait(self, hook: AtlasHook, export_id: str, group: str, bucket: Mapping[str, Any]) -> dict[str, Any]:
        """Wait in the worker (poke) or, when deferrable and not done at the first look, in the triggerer."""
        from airflow_provider_atlas_restore.api.watched_resources import (
            WatchedExportJob,
        )
        from airflow_provider_atlas_restore.models.export_job import ExportJobState
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        resource = WatchedExportJob(group, self.cluster_name, export_id)
        outcome, job = hook.wait_for_resource(
            resource,
            poll_interval=self.poll_interval,
            timeout=0 if self.deferrable else self.timeout,
            first_state=ExportJobState.QUEUED,
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
        return self._result(outcome, job, export_id, group, bucket)

    def _result(
        self,
        outcome: WaitOutcome,
        job: dict[str, Any] | None,
        export_id: str,
        group: str,
        bucket: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Return the export's XCom value when it is done; raise when it failed or the time ran out."""
        from airflow_provider_atlas_restore.models.wait import WaitStatus

        if outcome.status is WaitStatus.FAILED:
            raise AirflowFailException(outcome.message)
        if outcome.status is WaitStatus.PENDING or job is None:
            raise AirflowSensorTimeout(
                f"Export job {export_id} of cluster {self.cluster_name} was not done after timeout="
                f"{self.timeout:.0f} s of waiting; it goes on in Atlas. Last look: {outcome.message}"
            )
        value = self._xcom(job, export_id, group, bucket)
        self.log.info("The export is at %s", value["uri"] or value["prefix"])
        return value

    def _xcom(
        self, job: Mapping[str, Any], export_id: str, group: str, bucket: Mapping[str, Any]
    ) -> dict[str, Any]:
        from airflow_provider_atlas_restore.models.export_job import ExportJobResult

        return ExportJobResult.from_job(
            job, export_job_id=export_id, cluster_name=self.cluster_name, group_id=group, bucket=bucket
        ).to_xcom()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: read the export job and its bucket afresh and return the result, or fail."""
        event = event or {}
        export_id = validate_object_id(event.get("export_id"), "export_id")
        message = str(event.get("message") or "The trigger ended without a message.")
        if event.get("status") not in ("success", "timeout"):
            raise AirflowFailException(message)
        hook = _hook(validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            job = hook.get_export_job(self.cluster_name, export_id, group)
            from airflow_provider_atlas_restore.models.export_job import evaluate_export_job

            outcome = evaluate_export_job(job, cluster_name=self.cluster_name, export_id=export_id)
            self.log.info("%s", outcome.message)
            bucket_id = validate_object_id(job.get("exportBucketId"), "the export job's exportBucketId")
            bucket = hook.get_export_bucket(bucket_id, group)
            return self._record_lineage(context, hook, self._result(outcome, job, export_id, group, bucket))
        finally:
            hook.close()

    def on_kill(self) -> None:
        """Say that the export goes on: Atlas has no cancel for export jobs."""
        self.log.warning(
            "The task was killed; Atlas has no cancel for export jobs: an export this task started "
            "goes on in Atlas, and a retry of this task adopts it."
        )
