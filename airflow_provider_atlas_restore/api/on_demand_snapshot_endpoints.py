"""Requests for on-demand snapshots of a dedicated cluster: take, delete, change retention (2023-01-01)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.request_building import RequestBuilding

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest


class OnDemandSnapshotRequests(RequestBuilding):
    """Builders for ``/clusters/{name}/backup/snapshots`` writes; the reads are in ``AtlasRequests``."""

    def take_snapshot_request(self, group_id: str, cluster_name: str, body: Mapping[str, Any]) -> ApiRequest:
        """
        Build ``POST .../backup/snapshots``: take an on-demand snapshot (200, the snapshot ``queued``).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param body: as built by :meth:`~airflow_provider_atlas_restore.api.backup_bodies.OnDemandSnapshotSpec.to_body`.
        """
        path = self._cluster_path(group_id, cluster_name) + "/backup/snapshots"
        return self._request("POST", path, json_body=dict(body))

    def _snapshot_path(self, group_id: str, cluster_name: str, snapshot_id: str) -> str:
        snapshot = self._id_segment(snapshot_id, "snapshot_id")
        return self._cluster_path(group_id, cluster_name) + f"/backup/snapshots/{snapshot}"

    def delete_snapshot_request(self, group_id: str, cluster_name: str, snapshot_id: str) -> ApiRequest:
        """
        Build ``DELETE .../backup/snapshots/{snapshotId}``: remove a snapshot (204, no body).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        """
        return self._request("DELETE", self._snapshot_path(group_id, cluster_name, snapshot_id))

    def update_snapshot_retention_request(
        self, group_id: str, cluster_name: str, snapshot_id: str, body: Mapping[str, Any]
    ) -> ApiRequest:
        """
        Build ``PATCH .../backup/snapshots/{snapshotId}``: change when Atlas deletes the snapshot (200).

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param snapshot_id: the snapshot id.
        :param body: as built by :meth:`~airflow_provider_atlas_restore.api.backup_bodies.SnapshotRetentionSpec.to_body`.
        """
        path = self._snapshot_path(group_id, cluster_name, snapshot_id)
        return self._request("PATCH", path, json_body=dict(body))
