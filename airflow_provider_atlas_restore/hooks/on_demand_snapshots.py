"""
The on-demand snapshot operations of :class:`~.atlas.AtlasHook`: take, read, delete, change retention.

Atlas takes one on-demand snapshot per cluster at a time. When it refuses a second one,
:meth:`OnDemandSnapshotOperations.take_snapshot` looks for the running one and raises
:class:`~airflow_provider_atlas_restore.exceptions.AtlasSnapshotInProgressError` naming it, so a
caller can wait for it or adopt it; it does not depend on the error code Atlas sends.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_provider_atlas_restore.api.backup_bodies import OnDemandSnapshotSpec, SnapshotRetentionSpec
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import validate_flag
from airflow_provider_atlas_restore.client.retry import is_safe_to_repeat_create
from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasClusterKindError,
    AtlasSnapshotInProgressError,
)
from airflow_provider_atlas_restore.hooks.restore_job_waits import earliest_start_of_earlier_tries
from airflow_provider_atlas_restore.hooks.snapshots import SnapshotOperations
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind, kind_from_error_code
from airflow_provider_atlas_restore.models.snapshot import Snapshot, SnapshotStatus

#: The statuses of a snapshot that is still being taken.
RUNNING_STATUSES = (SnapshotStatus.QUEUED, SnapshotStatus.IN_PROGRESS)
#: The 404 error codes that say the cluster or project is wrong, not that the snapshot is gone.
_WRONG_PLACE_CODES = ("CLUSTER_NOT_FOUND", "GROUP_NOT_FOUND")


def is_snapshot_gone(error: AtlasApiError) -> bool:
    """
    Return whether an error says the snapshot does not exist (404), not that the cluster or project is wrong.

    :param error: the error of a snapshot's read or delete.
    """
    return error.status == 404 and error.error_code not in _WRONG_PLACE_CODES


class OnDemandSnapshotOperations(SnapshotOperations):
    """On-demand Cloud Backup snapshots of a dedicated cluster (``/clusters/{name}/backup/snapshots``)."""

    def get_snapshot(
        self, cluster_name: str, snapshot_id: str, group_id: str | None = None, *, sharded: bool = False
    ) -> dict[str, Any]:
        """
        Return one snapshot as Atlas describes it (all fields kept).

        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: the snapshot is a sharded cluster's (``.../snapshots/shardedCluster/{id}``).
        """
        request = self.api.get_snapshot_request(
            self.resolve_group_id(group_id),
            cluster_name,
            snapshot_id,
            sharded=validate_flag(sharded, "sharded"),
        )
        return expect_mapping(request, 200, self.run(request))

    def find_snapshot_in_progress(
        self, cluster_name: str, group_id: str | None = None
    ) -> dict[str, Any] | None:
        """
        Return the cluster's on-demand snapshot that is queued or in progress, or ``None``.

        Reads the replica-set snapshots, and the sharded-cluster ones when there are none.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        for snapshot in self.list_on_demand_snapshots(cluster_name, group_id):
            if Snapshot.from_api(snapshot).status in RUNNING_STATUSES:
                return snapshot
        return None

    def list_on_demand_snapshots(
        self, cluster_name: str, group_id: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Return the cluster's on-demand snapshots, newest first (any status).

        Reads the replica-set snapshots, and the sharded-cluster ones when there are none.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        group = self.resolve_group_id(group_id)
        for sharded in (False, True):
            snapshots = self.list_snapshots(cluster_name, group, sharded=sharded)
            if snapshots or self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX:
                return [snapshot for snapshot in snapshots if Snapshot.from_api(snapshot).is_on_demand]
        return []

    def find_snapshot_of_an_earlier_try(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        description: str | None,
        try_number: object,
        dag_run_started: object,
    ) -> dict[str, Any] | None:
        """
        Return the on-demand snapshot an earlier try of a task instance took, to adopt; ``None`` on a first try or when there is none.

        A snapshot matches when it has the same ``description`` and was requested since
        :func:`~airflow_provider_atlas_restore.hooks.restore_job_waits.earliest_start_of_earlier_tries`
        (the time in its ObjectId: an on-demand snapshot has no ``createdAt`` until completed);
        the newest one not ``failed`` is returned, and the log says it is adopted.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param description: the description the task gives its snapshots.
        :param try_number: the task instance's ``try_number``.
        :param dag_run_started: when its DAG run began.
        """
        since = earliest_start_of_earlier_tries(try_number, dag_run_started)
        if since is None:
            return None
        found = [
            snapshot
            for snapshot in self.list_on_demand_snapshots(cluster_name, group_id)
            if _requested_since(snapshot, since)
            and Snapshot.from_api(snapshot).description == description
            and Snapshot.from_api(snapshot).status is not SnapshotStatus.FAILED
        ]
        self.log.info(
            "Found %d on-demand snapshots of cluster %s with this description requested since %s",
            len(found),
            cluster_name,
            since.isoformat(),
        )
        if not found:
            return None
        snapshot = max(found, key=lambda item: str(item.get("id")))
        self.log.info(
            "Adopting on-demand snapshot %s (%s) taken by an earlier try of this task instance (this is "
            "try %s) instead of taking another.",
            snapshot.get("id"),
            snapshot.get("status"),
            try_number,
        )
        return snapshot

    def take_snapshot(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        description: str | None = None,
        retention_in_days: int = 1,
    ) -> dict[str, Any]:
        """
        Take an on-demand snapshot and return it as Atlas answers (``queued``); arguments are checked first.

        A create is not repeated after a 5xx or a lost answer (the snapshot may exist already).
        When Atlas refuses because another on-demand snapshot of the cluster is still running,
        raise :class:`AtlasSnapshotInProgressError` with that snapshot's id; for a flex cluster
        (``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API``) raise :class:`AtlasClusterKindError`.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param description: what the snapshot is for.
        :param retention_in_days: days Atlas keeps it, at least 1.
        """
        body = OnDemandSnapshotSpec(description, retention_in_days).to_body()
        group = self.resolve_group_id(group_id)
        request = self.api.take_snapshot_request(group, cluster_name, body)
        try:
            snapshot = expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create))
        except AtlasApiError as error:
            if kind_from_error_code(error.error_code) is ClusterKind.FLEX:
                raise AtlasClusterKindError(
                    f"Cluster {cluster_name} is a flex cluster (Atlas answered {error.error_code}): Atlas "
                    "takes no on-demand snapshots of flex clusters, only its daily ones. Restore or "
                    "download one of those instead."
                ) from error
            if error.status not in (400, 409):
                raise
            running = self.find_snapshot_in_progress(cluster_name, group)
            if running is None:
                raise
            view = Snapshot.from_api(running)
            status = view.status.value if view.status else None
            raise AtlasSnapshotInProgressError(
                f"Atlas refused an on-demand snapshot of cluster {cluster_name}: on-demand snapshot "
                f"{view.id} is still {status}, and Atlas takes one at a time. Wait for it to complete, "
                "or use it.",
                snapshot_id=view.id,
                status=status,
                sharded=view.is_sharded,
            ) from error
        self.log.info(
            "Took on-demand snapshot %s of cluster %s (%s)",
            snapshot.get("id"),
            cluster_name,
            snapshot.get("status"),
        )
        return snapshot

    def delete_snapshot(self, cluster_name: str, snapshot_id: str, group_id: str | None = None) -> None:
        """
        Delete a snapshot (Atlas answers 204); scheduled ones too, so callers decide which they allow.

        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.delete_snapshot_request(self.resolve_group_id(group_id), cluster_name, snapshot_id)
        self.run(request)
        self.log.info("Deleted snapshot %s of cluster %s", snapshot_id, cluster_name)

    def get_snapshot_if_present(
        self, cluster_name: str, snapshot_id: str, group_id: str | None = None
    ) -> dict[str, Any] | None:
        """
        Return a replica set's or a sharded cluster's snapshot, or ``None`` when Atlas has no such snapshot.

        The replica-set path is read first, then ``.../snapshots/shardedCluster/{id}``. A 404
        naming the cluster or project (``CLUSTER_NOT_FOUND``, ``GROUP_NOT_FOUND``) raises; so does a
        flex cluster, as :class:`AtlasClusterKindError` (it has no snapshots to delete).

        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        group = self.resolve_group_id(group_id)
        for sharded in (False, True):
            try:
                return self.get_snapshot(cluster_name, snapshot_id, group, sharded=sharded)
            except AtlasApiError as error:
                if kind_from_error_code(error.error_code) is ClusterKind.FLEX:
                    raise AtlasClusterKindError(
                        f"Cluster {cluster_name} is a flex cluster (Atlas answered {error.error_code}): "
                        "it has no on-demand snapshots, and its daily ones cannot be deleted."
                    ) from error
                if not is_snapshot_gone(error):
                    raise
        return None

    def delete_snapshot_if_present(
        self, cluster_name: str, snapshot_id: str, group_id: str | None = None
    ) -> bool:
        """
        Delete a snapshot; return ``False`` when Atlas answers 404 for it (gone already), ``True`` otherwise.

        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        try:
            self.delete_snapshot(cluster_name, snapshot_id, group_id)
        except AtlasApiError as error:
            if not is_snapshot_gone(error):
                raise
            return False
        return True

    def update_snapshot_retention(
        self,
        cluster_name: str,
        snapshot_id: str,
        retention_value: int,
        retention_unit: str = "DAYS",
        group_id: str | None = None,
    ) -> dict[str, Any]:
        """
        Change how long Atlas keeps a snapshot and return it with its new ``expiresAt``.

        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param retention_value: how many units, at least 1.
        :param retention_unit: ``DAYS``, ``WEEKS``, ``MONTHS`` or ``YEARS``.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        body = SnapshotRetentionSpec(retention_value, retention_unit).to_body()
        request = self.api.update_snapshot_retention_request(
            self.resolve_group_id(group_id), cluster_name, snapshot_id, body
        )
        snapshot = expect_mapping(request, 200, self.run(request))
        self.log.info(
            "Snapshot %s of cluster %s now expires at %s",
            snapshot_id,
            cluster_name,
            snapshot.get("expiresAt"),
        )
        return snapshot


def _requested_since(snapshot: dict[str, Any], since: datetime) -> bool:
    """Return whether a snapshot's id holds a time at or after ``since`` (Atlas ids begin with it, in whole seconds)."""
    snapshot_id = snapshot.get("id")
    if not isinstance(snapshot_id, str) or len(snapshot_id) != 24:
        return False
    try:
        requested = datetime.fromtimestamp(int(snapshot_id[:8], 16), tz=timezone.utc)
    except ValueError:
        return False
    return requested >= since
