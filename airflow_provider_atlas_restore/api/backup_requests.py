"""The request builders added for issue 18, as one base of :class:`~.endpoints.AtlasRequests`."""

from __future__ import annotations

from airflow_provider_atlas_restore.api.collection_restore_endpoints import CollectionRestoreRequests
from airflow_provider_atlas_restore.api.export_endpoints import ExportRequests
from airflow_provider_atlas_restore.api.on_demand_snapshot_endpoints import OnDemandSnapshotRequests


class BackupRequests(OnDemandSnapshotRequests, ExportRequests, CollectionRestoreRequests):
    """Builders for on-demand snapshots, export buckets and jobs, and collection restores."""
