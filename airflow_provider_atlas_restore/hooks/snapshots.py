"""The snapshot operations of :class:`~.atlas.AtlasHook`: list them and find the newest completed one."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.api.endpoints import DEFAULT_ITEMS_PER_PAGE
from airflow_provider_atlas_restore.api.paging import Page, UniqueItems
from airflow_provider_atlas_restore.api.validation import validate_flag
from airflow_provider_atlas_restore.exceptions import AtlasSnapshotNotFoundError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.models import newest_completed


class SnapshotOperations(HookOperations):
    """Cloud Backup snapshots of a dedicated cluster, replica set or sharded (``/clusters/{name}/backup/snapshots``)."""

    def get_snapshots_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        sharded: bool = False,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a cluster's snapshots, newest first.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots.
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        """
        request = self.api.list_snapshots_request(
            self.resolve_group_id(group_id),
            cluster_name,
            sharded=validate_flag(sharded, "sharded"),
            page_num=page_num,
            items_per_page=items_per_page,
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_snapshots(
        self, cluster_name: str, group_id: str | None = None, *, sharded: bool = False
    ) -> list[dict[str, Any]]:
        """
        Return every snapshot of a cluster once, newest first, reading all pages.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots.
        """
        group = self.resolve_group_id(group_id)
        path = self.api.snapshots_path(group, cluster_name, sharded=validate_flag(sharded, "sharded"))

        def fetch_page(page_num: int) -> Page:
            return self.get_snapshots_page(cluster_name, group, sharded=sharded, page_num=page_num)

        return list(UniqueItems(fetch_page, path=path))

    def latest_completed_snapshot(
        self, cluster_name: str, group_id: str | None = None, *, sharded: bool | None = None
    ) -> dict[str, Any]:
        """
        Return the newest snapshot whose status is ``completed``, or raise :class:`AtlasSnapshotNotFoundError`.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: whether the cluster is sharded; ``None`` looks at replica-set snapshots
            first and at sharded-cluster snapshots when there are none.
        """
        kinds = [validate_flag(sharded, "sharded")] if sharded is not None else [False, True]
        seen = 0
        for kind in kinds:
            snapshots = self.list_snapshots(cluster_name, group_id, sharded=kind)
            seen += len(snapshots)
            latest = newest_completed(snapshots)
            if latest is not None:
                self.log.info(
                    "Newest completed snapshot of cluster %s is %s, taken %s",
                    cluster_name,
                    latest.get("id"),
                    latest.get("createdAt"),
                )
                return latest
            if snapshots:
                break
        raise AtlasSnapshotNotFoundError(
            f"Cluster {cluster_name} has no completed snapshot ({seen} snapshots, none completed): "
            "take an on-demand snapshot or wait for the next scheduled one."
        )
