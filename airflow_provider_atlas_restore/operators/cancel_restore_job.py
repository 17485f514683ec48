"""Operator that cancels a MongoDB Atlas restore job (flex restore jobs are refused: Atlas cannot cancel them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_group_id_or_default,
    validate_object_id,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class AtlasCancelRestoreJobOperator(BaseOperator):
    """
    Cancel an Atlas restore job; fails with Atlas's reason when the job cannot be cancelled.

    Flex restore jobs cannot be cancelled (Atlas has no cancel for them): on a flex cluster the
    task fails with :class:`~airflow_provider_atlas_restore.exceptions.AtlasClusterKindError`
    before any cancel request (with ``cluster_type="flex"``, before any request at all).

    :param cluster_name: the job's cluster. (templated)
    :param restore_job_id: the job to cancel. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
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
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cluster_name = cluster_name
        self.restore_job_id = restore_job_id
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.cluster_type = cluster_type

    def execute(self, context: Context) -> None:
        """Check every input, then cancel the job."""
        # Templated values are known only now: check them all before any request or XCom.
        validate_cluster_name(self.cluster_name)
        validate_object_id(self.restore_job_id, "restore_job_id")
        validate_group_id_or_default(self.group_id)
        conn_id = validate_conn_id(self.atlas_conn_id)
        # Imported only when the task runs: the hook brings the HTTP client.
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
        from airflow_provider_atlas_restore.hooks.restore_jobs import flex_cancel_refused

        if validate_cluster_type(self.cluster_type) == "flex":  # refused before any request or XCom
            raise flex_cancel_refused(self.cluster_name, self.restore_job_id)

        hook = AtlasHook(atlas_conn_id=conn_id)
        try:
            group = hook.resolve_group_id(self.group_id or None)
            AtlasRestoresLink.persist(
                context, base_url=hook.config.base_url, group_id=group, cluster_name=self.cluster_name
            )
            hook.cancel_restore_job(
                self.cluster_name, self.restore_job_id, group, cluster_type=self.cluster_type
            )
        finally:
            hook.close()
