"""A sensor that waits until a restore job is done: download links ready, or the restore finished."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_object_id,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink
from airflow_provider_atlas_restore.masking import redact_result_links

# The hook (requests), the retry rules (tenacity), the trigger (httpx, airflow.triggers), the
# job's model and its result are imported when the task runs, not when the DAG file is parsed.
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook


class AtlasRestoreJobSensor(BaseSensorOperator):
    """
    Wait until an Atlas restore job is done, then hand the job (its links only if asked) downstream.

    A download restore is done when ``deliveryUrl`` is populated and, on a sharded cluster,
    every ``components[].downloadUrl``; an automated or point-in-time restore when
    ``finishedAt`` is set; a flex cluster's job at ``status`` ``COMPLETED`` (``FAILED`` fails).
    With ``cluster_type="auto"`` the first look finds out whether the cluster is dedicated or flex
    (one refused request for a flex cluster, none for a dedicated one), and the trigger is given
    what it found. A failed, cancelled or expired job, or one whose ``expiresAt`` has
    passed, fails the task at once without retries. Connection errors, timeouts, 429 and 5xx
    answers do not fail a poke: the next poke tries again. 401, 403 and 404 fail with the
    hook's explanation.

    Returns (XCom) ``{"restore_job_id", "cluster_name", "group_id", "delivery_type", "state",
    "snapshot_id", "expires_at", "finished_at", "delivery_urls", "components":
    [{"replica_set_name", "download_url"}]}``. Download links are bearer links to the snapshot, so
    by default each one is ``***`` there (lists keep their length), out of the metadata database
    and the UI: :class:`~airflow_provider_atlas_restore.operators.download.AtlasDownloadSnapshotOperator`
    given this value resolves fresh links from ``restore_job_id`` and ``cluster_name``. With
    ``include_delivery_urls=True`` the real links are there. They are masked in every log line.

    Works in ``poke`` and ``reschedule`` mode, and deferrable (the default follows
    ``[operators] default_deferrable``): it checks once, and defers to
    :class:`~airflow_provider_atlas_restore.triggers.restore_job.AtlasRestoreJobTrigger` only
    when the job is not done yet.

    :param cluster_name: the job's cluster. (templated)
    :param restore_job_id: the job to wait for, typically pulled from the task that created it. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poke_interval: seconds between two looks at the job (also the trigger's poll interval).
    :param include_delivery_urls: put the real download links into XCom (default ``False``: ``***``).
    :param cluster_type: ``"auto"`` (default: ask Atlas), ``"dedicated"`` or ``"flex"``. (templated)
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "restore_job_id",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    )
    operator_extra_links = (AtlasRestoresLink(),)
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 60,
        include_delivery_urls: bool = False,
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.cluster_type = cluster_type
        self.cluster_name = cluster_name
        self.restore_job_id = restore_job_id
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.deferrable = deferrable
        self.include_delivery_urls = include_delivery_urls
        self._first_poke: float | None = None

    @cached_property
    def hook(self) -> AtlasHook:
        """Return the hook, created once per task run so its Digest nonce is reused."""
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

        return AtlasHook(atlas_conn_id=self.atlas_conn_id)

    @cached_property
    def _checked_ids(self) -> tuple[str, str, str]:
        """Return the project, cluster and job ids, validated once per task run and then reused."""
        cluster = validate_cluster_name(self.cluster_name)
        job_id = validate_object_id(self.restore_job_id, "restore_job_id")
        validate_cluster_type(self.cluster_type)
        group = validate_object_id(self.hook.resolve_group_id(self.group_id), "group_id")
        return group, cluster, job_id

    def _waited_seconds(self, context: Context) -> float:
        if self.reschedule:
            ti: Any = context["ti"]
            first = getattr(ti, "get_first_reschedule_date", lambda _: None)(context) or ti.start_date
            return (datetime.now(timezone.utc) - first).total_seconds() if first else 0.0
        if self._first_poke is None:
            self._first_poke = time.monotonic()
        return time.monotonic() - self._first_poke

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Look at the job once: done, failed (raises), or not yet."""
        from airflow_provider_atlas_restore.models.wait import WaitStatus, evaluate_restore_job

        group, cluster, job_id = self._checked_ids
        waited = self._waited_seconds(context)
        try:
            job = self.hook.get_restore_job(cluster, job_id, group, cluster_type=self.cluster_type)
        except AtlasApiError as error:
            from airflow_provider_atlas_restore.client.retry import is_retryable

            if not is_retryable(error):
                raise
            self.log.warning(
                "Restore job %s: no usable answer this poke, trying again later: %s", job_id, error
            )
            return False
        outcome = evaluate_restore_job(
            job, cluster_name=cluster, now=datetime.now(timezone.utc), restore_job_id=job_id
        )
        self.log.info("%s Waited %.0f s.", outcome.message, waited)
        if outcome.status is WaitStatus.FAILED:
            raise AirflowFailException(outcome.message)
        if outcome.status is WaitStatus.DONE:
            return PokeReturnValue(is_done=True, xcom_value=self._xcom_value(job, job_id, cluster, group))
        return False

    def _xcom_value(self, job: dict[str, Any], job_id: str, cluster: str, group: str) -> dict[str, Any]:
        """Return the job as XCom holds it: its links redacted unless ``include_delivery_urls``."""
        from airflow_provider_atlas_restore.models.result import RestoreJobResult

        value = RestoreJobResult.from_job(
            job, restore_job_id=job_id, cluster_name=cluster, group_id=group
        ).to_xcom()
        return value if self.include_delivery_urls else redact_result_links(value)

    def execute(self, context: Context) -> Any:
        """Wait in the chosen mode; when deferrable, check once before deferring."""
        group, cluster, _ = self._checked_ids
        AtlasRestoresLink.persist(
            context, base_url=self.hook.config.base_url, group_id=group, cluster_name=cluster
        )
        if not self.deferrable:
            return super().execute(context)
        try:
            first_look = self.poke(context)
        except AirflowFailException as error:
            if self.soft_fail:
                raise AirflowSkipException(str(error)) from error
            raise
        if isinstance(first_look, PokeReturnValue):
            return first_look.xcom_value
        group, cluster, job_id = self._checked_ids
        from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

        self.defer(
            trigger=AtlasRestoreJobTrigger(
                atlas_conn_id=self.atlas_conn_id,
                group_id=group,
                cluster_name=cluster,
                restore_job_id=job_id,
                poll_interval=float(self.poke_interval),
                timeout_at=time.time() + float(self.timeout),
                # Found by the first look (or asked now, once): the triggerer does no detection.
                cluster_kind=self.hook.cluster_kind(cluster, group, self.cluster_type).value,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )
        return None  # not reached: defer() raises

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Turn the trigger's event into the XCom value, reading fresh links, or a clear failure."""
        event = event or {}
        status = event.get("status")
        message = str(event.get("message") or "The trigger ended without a message.")
        if status == "success":
            from airflow_provider_atlas_restore.models.wait import WaitStatus, evaluate_restore_job

            group, cluster, job_id = self._checked_ids
            # The kind the task found before deferring, so resuming asks Atlas nothing more.
            kind = event.get("cluster_kind") if event.get("cluster_kind") in ("dedicated", "flex") else None
            job = self.hook.get_restore_job(cluster, job_id, group, cluster_type=kind or self.cluster_type)
            outcome = evaluate_restore_job(
                job, cluster_name=cluster, now=datetime.now(timezone.utc), restore_job_id=job_id
            )
            if outcome.status is WaitStatus.DONE:
                self.log.info("%s", outcome.message)
                return self._xcom_value(job, job_id, cluster, group)
            message = outcome.message
        if self.soft_fail:
            raise AirflowSkipException(message)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        raise AirflowFailException(message)
