"""The operator that deletes an on-demand Cloud Backup snapshot of a dedicated cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_flag,
    validate_group_id_or_default,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID

# The snapshot's model, the snapshot choice and the flex rules are imported where a task runs (the
# flex rules also where a flex cluster is named), not when a DAG file is parsed (figure 4p).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.models.snapshot import Snapshot

#: What Atlas lacks for flex clusters, for the refusal of ``cluster_type="flex"``.
FLEX_LACKS = "on-demand snapshots to delete (their daily ones cannot be deleted)"


class AtlasDeleteSnapshotOperator(BaseOperator):
    """
    Delete an on-demand snapshot (cleanup after a pipeline); scheduled and fallback ones only with ``allow_scheduled=True``.

    The snapshot is read first: one Atlas took by the backup policy (``snapshotType`` not
    ``onDemand``) fails the task without a retry unless ``allow_scheduled=True``. A snapshot
    already gone (404) is success, with a log line, so a retried cleanup does not fail. Returns
    ``{"snapshot_id", "cluster_name", "group_id", "deleted"}`` (``deleted`` false when it was gone).

    :param cluster_name: the snapshot's dedicated cluster. (templated)
    :param snapshot_id: the snapshot id, or a take-snapshot task's output (its ``snapshot_id``). (templated)
    :param allow_scheduled: delete a scheduled or fallback snapshot too (default ``False``).
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param cluster_type: ``"auto"`` (default), ``"dedicated"``; ``"flex"`` is refused. (templated)
    """

    template_fields: Sequence[str] = (
        "cluster_name",
        "snapshot_id",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    )
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        cluster_name: str,
        snapshot_id: str | dict[str, Any],
        allow_scheduled: bool = False,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        cluster_type: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if cluster_type == "flex":
            from airflow_provider_atlas_restore.api.flex_endpoints import refuse_flex_cluster

            refuse_flex_cluster(type(self).__name__, cluster_name, FLEX_LACKS)
        self.cluster_name = cluster_name
        self.snapshot_id = snapshot_id
        self.allow_scheduled = validate_flag(allow_scheduled, "allow_scheduled")
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.cluster_type = cluster_type

    def execute(self, context: Context) -> dict[str, Any]:
        """Check every input, read the snapshot, refuse a scheduled one unless allowed, then delete it."""
        from airflow_provider_atlas_restore.api.flex_endpoints import refuse_flex_cluster
        from airflow_provider_atlas_restore.models.snapshot import Snapshot
        from airflow_provider_atlas_restore.models.snapshot_choice import snapshot_id_from_input

        validate_cluster_name(self.cluster_name)
        snapshot_id = snapshot_id_from_input(
            self.snapshot_id, cluster_name=self.cluster_name, allow_latest=False
        )
        validate_group_id_or_default(self.group_id)
        if validate_cluster_type(self.cluster_type) == "flex":
            refuse_flex_cluster(type(self).__name__, self.cluster_name, FLEX_LACKS)
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook  # only when the task runs

        hook = AtlasHook(atlas_conn_id=validate_conn_id(self.atlas_conn_id))
        try:
            group = hook.resolve_group_id(self.group_id or None)
            result = {"snapshot_id": snapshot_id, "cluster_name": self.cluster_name, "group_id": group}
            snapshot = hook.get_snapshot_if_present(self.cluster_name, snapshot_id, group)
            if snapshot is not None:
                self._refuse_scheduled(Snapshot.from_api(snapshot), snapshot_id)
                if hook.delete_snapshot_if_present(self.cluster_name, snapshot_id, group):
                    return {**result, "deleted": True}
            self._log_gone(snapshot_id)
            return {**result, "deleted": False}
        finally:
            hook.close()

    def _log_gone(self, snapshot_id: str) -> None:
        self.log.info(
            "Snapshot %s of cluster %s does not exist (404): already deleted, nothing to do.",
            snapshot_id,
            self.cluster_name,
        )

    def _refuse_scheduled(self, view: Snapshot, snapshot_id: str) -> None:
        """Raise unless the snapshot is an on-demand one or ``allow_scheduled`` is set."""
        if view.is_on_demand or self.allow_scheduled:
            return
        raise AirflowFailException(
            f"Snapshot {snapshot_id} of cluster {self.cluster_name} is a {view.snapshot_type or 'scheduled'} "
            "snapshot, not an on-demand one: Atlas took it by the cluster's backup policy, and deleting "
            "it loses a restore point. This task deletes on-demand snapshots only; pass "
            "allow_scheduled=True to delete it anyway."
        )
