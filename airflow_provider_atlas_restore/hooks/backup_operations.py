"""The hook operations added for issue 18, as one base of :class:`~.atlas.AtlasHook`."""

from __future__ import annotations

from airflow_provider_atlas_restore.hooks.collection_restores import CollectionRestoreOperations
from airflow_provider_atlas_restore.hooks.export_jobs import ExportJobOperations
from airflow_provider_atlas_restore.hooks.on_demand_snapshots import OnDemandSnapshotOperations


class BackupOperations(OnDemandSnapshotOperations, ExportJobOperations, CollectionRestoreOperations):
    """On-demand snapshots, export buckets and jobs, and collection restores of a dedicated cluster."""
