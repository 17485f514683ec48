"""
The snapshot operations of :class:`~.atlas.AtlasHook`: list them, find the newest completed one,
and check a point-in-time restore against the cluster's continuous backup and restore window.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.endpoints import DEFAULT_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import validate_cluster_type, validate_flag
from airflow_provider_atlas_restore.exceptions import AtlasClusterKindError, AtlasSnapshotNotFoundError
from airflow_provider_atlas_restore.hooks.cluster_kinds import ClusterKindOperations
from airflow_provider_atlas_restore.hooks.flex_backups import FlexBackupOperations
from airflow_provider_atlas_restore.models.backup_schedule import RestoreWindow
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind, given_kind
from airflow_provider_atlas_restore.models.snapshot_choice import SnapshotChoice, choose_latest_snapshot

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec


class SnapshotOperations(ClusterKindOperations, FlexBackupOperations):
    """
    Cloud Backup snapshots of a dedicated cluster, replica set or sharded (``/clusters/{name}/backup/snapshots``).

    With ``cluster_type="auto"`` (default) a flex cluster's snapshots are read from the flex API
    instead (listed oldest first there: nothing here relies on the order).

    Also the two reads a point-in-time restore is checked against: the cluster
    (``pitEnabled``) and its backup schedule (``restoreWindowDays``).
    """

    def get_snapshots_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        sharded: bool = False,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
        cluster_type: str = "auto",
    ) -> Page:
        """
        Return one page of a cluster's snapshots, newest first (a flex cluster's oldest first).

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots (not for a flex cluster).
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        request = self.api.list_snapshots_request(
            group,
            cluster_name,
            sharded=validate_flag(sharded, "sharded"),
            page_num=page_num,
            items_per_page=items_per_page,
        )

        def flex() -> Page:
            self._refuse_sharded_flex(cluster_name, sharded)
            return self.get_flex_snapshots_page(
                cluster_name, group, page_num=page_num, items_per_page=items_per_page
            )

        return self.by_cluster_kind(
            cluster_name,
            group,
            cluster_type,
            lambda: Page.from_body(request, self.run(request), page_num, items_per_page),
            flex,
        )

    @staticmethod
    def _refuse_sharded_flex(cluster_name: str, sharded: bool) -> None:
        if sharded:
            raise AtlasClusterKindError(
                f"Cluster {cluster_name} is a flex cluster, which is never sharded: leave sharded=False."
            )

    def list_snapshots(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        sharded: bool = False,
        cluster_type: str = "auto",
    ) -> list[dict[str, Any]]:
        """
        Return every snapshot of a cluster once, in server order (dedicated newest first, flex oldest first).

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.snapshots_path(group, cluster_name, sharded=validate_flag(sharded, "sharded"))
        validate_cluster_type(cluster_type)
        if cluster_type == "flex" or self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX:
            self._refuse_sharded_flex(cluster_name, sharded)
            return self.list_flex_snapshots(cluster_name, group)
        listing: UniqueItems

        def fetch_page(page_num: int) -> Page:
            page = self.get_snapshots_page(
                cluster_name, group, sharded=sharded, page_num=page_num, cluster_type=cluster_type
            )
            if self.known_cluster_kind(cluster_name, group) is ClusterKind.FLEX:
                listing.path = self.api.flex_snapshots_path(group, cluster_name)
            return page

        listing = UniqueItems(fetch_page, path=path)
        return list(listing)

    def latest_completed_snapshot(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        sharded: bool | None = None,
        allow_fallback_snapshot: bool = False,
        cluster_type: str = "auto",
    ) -> dict[str, Any]:
        """
        Return the newest completed snapshot, or raise :class:`AtlasSnapshotNotFoundError`.

        Fallback snapshots (``snapshotType: fallback``), which Atlas warns may hold inconsistent
        data, are passed over unless ``allow_fallback_snapshot``; the log says which snapshot
        was chosen, and which newer fallback snapshots were skipped.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: whether the cluster is sharded; ``None`` looks at replica-set snapshots
            first and at sharded-cluster snapshots when there are none.
        :param allow_fallback_snapshot: let a fallback snapshot be chosen when it is the newest.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``; a flex cluster's snapshots
            are compared by when they were taken, as its list is oldest first.
        """
        allow_fallback = validate_flag(allow_fallback_snapshot, "allow_fallback_snapshot")
        kinds = [validate_flag(sharded, "sharded")] if sharded is not None else [False, True]
        group = self.resolve_group_id(group_id)
        validate_cluster_type(cluster_type)
        seen = 0
        choice = SnapshotChoice(None, allow_fallback=allow_fallback)
        for kind in kinds:
            if kind and ClusterKind.FLEX in (
                given_kind(cluster_type),
                self.known_cluster_kind(cluster_name, group),
            ):
                break  # a flex cluster (found by the first listing) has no sharded snapshots
            snapshots = self.list_snapshots(cluster_name, group, sharded=kind, cluster_type=cluster_type)
            seen += len(snapshots)
            choice = choose_latest_snapshot(snapshots, allow_fallback=allow_fallback)
            if choice.snapshot is not None:
                self.log.info("%s", choice.describe(cluster_name))
                return choice.snapshot
            if snapshots:
                break
        raise AtlasSnapshotNotFoundError(choice.not_found_message(cluster_name, seen))

    def get_cluster(self, cluster_name: str, group_id: str | None = None) -> dict[str, Any]:
        """
        Return the cluster as Atlas describes it (resource version 2024-08-05 on v2).

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_cluster_request(self.resolve_group_id(group_id), cluster_name)
        return expect_mapping(request, 200, self.run(request))

    def get_backup_schedule(self, cluster_name: str, group_id: str | None = None) -> dict[str, Any]:
        """
        Return the cluster's backup schedule as Atlas describes it (resource version 2024-08-05 on v2).

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_backup_schedule_request(self.resolve_group_id(group_id), cluster_name)
        return expect_mapping(request, 200, self.run(request))

    def check_point_in_time_restore(
        self, cluster_name: str, spec: RestoreJobSpec, group_id: str | None = None
    ) -> RestoreWindow | None:
        """
        Refuse a point-in-time restore Atlas cannot do, before it is requested; other restores pass.

        For a ``pointInTime`` spec, reads the source cluster (continuous backup must be on) and
        its backup schedule (the moment must lie in the last ``restoreWindowDays``, and not in
        the future), and raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasInputError`
        giving the window otherwise. Returns the window checked, or ``None`` for other restores.

        :param cluster_name: the cluster whose backup is restored (the source, not the target).
        :param spec: the restore job to be created.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        if spec.delivery_type != "pointInTime":
            return None
        if spec.point_in_time_utc_seconds is not None:
            moment, parameter = spec.point_in_time_utc_seconds, "point_in_time_utc_seconds"
        elif spec.oplog_ts is not None:
            moment, parameter = spec.oplog_ts, "oplog_ts"
        else:
            return None  # the spec's own check names what is missing
        group = self.resolve_group_id(group_id)
        # cluster_kind("auto") read the description already: no second read of the same cluster.
        description = self.remembered_cluster_description(cluster_name, group) or self.get_cluster(
            cluster_name, group
        )
        window = RestoreWindow.from_api(
            cluster_name, description, self.get_backup_schedule(cluster_name, group)
        )
        now = datetime.now(timezone.utc)
        window.check(moment, parameter, now)
        if window.continuous_backup is None:
            self.log.warning(
                "Cluster %s did not say whether it uses continuous cloud backup (no pitEnabled): Atlas "
                "decides when the restore is requested",
                cluster_name,
            )
        self.log.info(
            "%s=%d is inside the point-in-time restore window of cluster %s: %s",
            parameter,
            moment,
            cluster_name,
            window.describe(now),
        )
        return window
