"""Operators that read MongoDB Atlas restore jobs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_atlas_restore.api.validation import (
    DEFAULT_ITEMS_PER_PAGE,
    DELIVERY_TYPES,
    MAX_ITEMS_PER_PAGE,
    validate_choice,
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_group_id_or_default,
    validate_int_range,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink
from airflow_provider_atlas_restore.masking import REDACTED_URL, mask_delivery_urls, redact_delivery_urls
from airflow_provider_atlas_restore.models.restore_job_state import RestoreJobState

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

# The secret-link rules live in masking; these names stay importable from here.
__all__ = ["REDACTED_URL", "AtlasListRestoreJobsOperator", "redact_delivery_urls"]


def _states(value: str | RestoreJobState | Iterable[str | RestoreJobState] | None) -> set[RestoreJobState]:
    if value is None:
        return set()
    allowed = tuple(state.value for state in RestoreJobState)
    if isinstance(value, (str, RestoreJobState)):
        items: list[Any] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        items = list(value)
    else:
        raise AtlasInputError(
            f"state={value!r} is not allowed: it must be a state or a list of states, from "
            + ", ".join(repr(state) for state in allowed)
            + "."
        )
    return {
        RestoreJobState(
            validate_choice(item.value if isinstance(item, RestoreJobState) else item, "state", allowed)
        )
        for item in items
    }


class AtlasListRestoreJobsOperator(BaseOperator):
    """
    List a cluster's Cloud Backup restore jobs into XCom, newest first, across all pages.

    Works on dedicated and flex clusters: with ``cluster_type="auto"`` the first listing request
    finds out which (a flex cluster costs one refused request) and the flex jobs come from
    ``/flexClusters/{name}/backup/restoreJobs``. A flex job (``deliveryType`` ``RESTORE``) counts
    as ``automated`` for the ``delivery_type`` filter; its state follows its ``status``.

    Returns a JSON list of job dicts as Atlas sent them (unknown fields kept), each job once.
    Download links are secret bearer URLs, so they are replaced by ``***`` unless
    ``include_delivery_urls`` is set; the list still shows which jobs have links.

    :param cluster_name: the cluster whose restore jobs to list. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param delivery_type: keep only jobs of this type: ``download``, ``automated`` or ``pointInTime``.
    :param state: keep only jobs in this state or these states (see
        :class:`~airflow_provider_atlas_restore.models.RestoreJobState`), such as ``"ready"``.
    :param max_items: return at most this many jobs (after filtering); ``None`` for all.
    :param page_size: jobs per API request, 1 to 500.
    :param include_delivery_urls: put the real download links into XCom.
    :param cluster_type: ``"auto"`` (default: ask Atlas), ``"dedicated"`` or ``"flex"``. (templated)
    """

    template_fields: Sequence[str] = ("cluster_name", "group_id", "atlas_conn_id", "cluster_type")
    operator_extra_links = (AtlasRestoresLink(),)
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        delivery_type: str | None = None,
        state: str | RestoreJobState | Iterable[str | RestoreJobState] | None = None,
        max_items: int | None = None,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        include_delivery_urls: bool = False,
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cluster_type = cluster_type
        self.cluster_name = cluster_name
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.delivery_type = (
            validate_choice(delivery_type, "delivery_type", DELIVERY_TYPES) if delivery_type else None
        )
        self.states = _states(state)
        self.max_items = validate_int_range(max_items, "max_items", 0) if max_items is not None else None
        self.page_size = validate_int_range(page_size, "page_size", 1, MAX_ITEMS_PER_PAGE)
        self.include_delivery_urls = include_delivery_urls

    def _wanted(self, job: dict[str, Any]) -> bool:
        if not self.delivery_type and not self.states:
            return True  # no filter: no need to read the job
        from airflow_provider_atlas_restore.models.restore_job import RestoreJob

        view = RestoreJob.from_api(job)
        kind = ("download" if view.is_download else "automated") if view.is_flex else view.delivery_type
        if self.delivery_type and kind != self.delivery_type:
            return False
        return not self.states or view.state in self.states

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """List the jobs and return them for XCom."""
        # Templated values are known only now: check them all before any request or XCom.
        validate_cluster_name(self.cluster_name)
        validate_group_id_or_default(self.group_id)
        validate_conn_id(self.atlas_conn_id)
        validate_cluster_type(self.cluster_type)
        if self.max_items == 0:
            return []
        # Imported here, not when the DAG file is parsed: the hook brings the HTTP client.
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

        hook = AtlasHook(atlas_conn_id=self.atlas_conn_id)
        jobs: list[dict[str, Any]] = []
        try:
            group = hook.resolve_group_id(self.group_id or None)
            filtered = self.delivery_type is not None or bool(self.states)
            listing = hook.iter_restore_jobs(
                self.cluster_name,
                group,
                page_size=self.page_size,
                max_items=None if filtered else self.max_items,
                cluster_type=self.cluster_type,
            )
            AtlasRestoresLink.persist(
                context, base_url=hook.config.base_url, group_id=group, cluster_name=self.cluster_name
            )
            for job in listing:
                if not self._wanted(job):
                    continue
                jobs.append(
                    mask_delivery_urls(job) if self.include_delivery_urls else redact_delivery_urls(job)
                )
                if self.max_items is not None and len(jobs) >= self.max_items:
                    break
        finally:
            hook.close()
        self.log.info(
            "Listed %d restore jobs of cluster %s in %d pages; returning %d",
            listing.items_read,
            self.cluster_name,
            listing.pages_read,
            len(jobs),
        )
        return jobs
