"""Where the emulator keeps on-demand snapshots, export buckets, export jobs and collection restores.

:class:`BackupStore` lives beside the main :class:`~.state.Store` (``store.backups``), under its
lock; on-demand snapshots are ordinary members of their cluster's snapshots, so listing them,
restoring them and exporting them works as for scheduled ones.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.testing.backup_records import (
    BUCKET_PROVIDERS,
    BackupTimings,
    ExportBucket,
    OnDemandSnapshot,
    RestoredCollection,
    StoredCollectionRestoreJob,
    StoredExportJob,
)
from airflow_provider_atlas_restore.testing.errors import AtlasError, resource_not_found

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.records import Cluster
    from airflow_provider_atlas_restore.testing.state import Store

__all__ = ["SNAPSHOT_IN_PROGRESS_CODE", "BackupStore", "snapshot_in_progress_error"]

#: The emulator's choice: the spec says to wait, Atlas's error for a second request is not documented.
SNAPSHOT_IN_PROGRESS_CODE = "ON_DEMAND_SNAPSHOT_ALREADY_IN_PROGRESS"
#: Collections a restored database holds in the emulator (it has no data to look into).
DATABASE_COLLECTIONS = ("orders", "customers")
_DAY = 86_400.0


def snapshot_in_progress_error(cluster_name: str, snapshot_id: str) -> AtlasError:
    """400 for a second on-demand snapshot while one is queued or in progress.

    :param cluster_name: the cluster.
    :param snapshot_id: the on-demand snapshot still running.
    """
    return AtlasError(
        400,
        SNAPSHOT_IN_PROGRESS_CODE,
        f"An on-demand snapshot ({snapshot_id}) of cluster {cluster_name} is already queued or in "
        "progress; wait until it completes before taking another.",
        [cluster_name, snapshot_id],
    )


def documents_of(namespace: str) -> int:
    """Return a stable document count for a collection (from its name: same name, same count).

    :param namespace: ``database.collection``.
    """
    return 1_000 * (1 + int(hashlib.blake2b(namespace.encode(), digest_size=2).hexdigest(), 16) % 20)


class BackupStore:
    """On-demand snapshots, export buckets and jobs, collection restore jobs (under ``store.lock``).

    :param store: the emulator's main store (clock, ids, projects and clusters).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.timings = BackupTimings()
        self.buckets: dict[str, dict[str, ExportBucket]] = {}  # by project, then id (insertion order)
        self.exports: dict[tuple[str, str], dict[str, StoredExportJob]] = {}
        self.collection_restores: dict[tuple[str, str], dict[str, StoredCollectionRestoreJob]] = {}

    # -- on-demand snapshots -------------------------------------------------------------
    @staticmethod
    def settle(cluster: Cluster, now: float) -> None:
        """Bring a cluster's on-demand snapshots to clock time ``now`` (the store calls it on each lookup).

        :param cluster: the cluster.
        :param now: clock time.
        """
        for snap in cluster.snapshots.values():
            if isinstance(snap, OnDemandSnapshot):
                snap.settle(now)

    @staticmethod
    def running_snapshot(cluster: Cluster) -> OnDemandSnapshot | None:
        """Return the cluster's on-demand snapshot that is queued or in progress, if any.

        :param cluster: the cluster (settled).
        """
        for snap in cluster.snapshots.values():
            if isinstance(snap, OnDemandSnapshot) and snap.status in ("queued", "inProgress"):
                return snap
        return None

    def take_snapshot(
        self,
        group_id: str,
        cluster_name: str,
        *,
        description: str | None = None,
        retention_in_days: int = 1,
        queued_seconds: float | None = None,
        in_progress_seconds: float | None = None,
        size_bytes: int = 10_000,
        one_at_a_time: bool = True,
    ) -> OnDemandSnapshot:
        """Start an on-demand snapshot; refuse a second while one runs (when ``one_at_a_time``).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param description: the snapshot's ``description``.
        :param retention_in_days: days it is kept.
        :param queued_seconds: clock seconds ``queued``; the timings' when None.
        :param in_progress_seconds: clock seconds ``inProgress``; the timings' when None.
        :param size_bytes: ``storageSizeBytes`` once completed.
        :param one_at_a_time: apply Atlas's one-in-progress rule (400 otherwise).
        """
        with self.store.lock:
            cluster = self.store.cluster(group_id, cluster_name)
            running = self.running_snapshot(cluster)
            if one_at_a_time and running is not None:
                raise snapshot_in_progress_error(cluster_name, running.id)
            now = self.store.clock.now()
            queued = self.timings.snapshot_queued if queued_seconds is None else queued_seconds
            progress = (
                self.timings.snapshot_in_progress if in_progress_seconds is None else in_progress_seconds
            )
            snap = OnDemandSnapshot(
                id=self.store.ids.object_id(now),
                group_id=group_id,
                cluster_name=cluster_name,
                created_at=now,
                status="queued",
                size_bytes=0,
                replica_set_name=None if cluster.sharded else cluster.name,
                snapshot_type="onDemand",
                frequency_type="ondemand",
                description=description,
                seq=self.store._next_seq(),
                requested_at=now,
                queued_seconds=max(0.0, queued),
                in_progress_seconds=max(0.0, progress),
                retention_seconds_set=retention_in_days * _DAY,
                final_size_bytes=size_bytes,
            )
            if cluster.sharded:
                snap.members = [(rs, self.store.ids.object_id(now)) for rs in cluster.replica_set_names]
            cluster.snapshots[snap.id] = snap
            return snap

    def delete_snapshot(self, group_id: str, cluster_name: str, snapshot_id: str) -> None:
        """Remove a snapshot, scheduled or on demand (404 when unknown).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: snapshot id.
        """
        with self.store.lock:
            self.store.snapshot(group_id, cluster_name, snapshot_id)
            del self.store.cluster(group_id, cluster_name).snapshots[snapshot_id]

    # -- export buckets ------------------------------------------------------------------
    def add_bucket(
        self,
        group_id: str,
        bucket_name: str,
        cloud_provider: str = "AWS",
        *,
        role_id: str | None = None,
        require_private_networking: bool = False,
        service_url: str | None = None,
    ) -> ExportBucket:
        """Create an export bucket of a project.

        :param group_id: project id.
        :param bucket_name: the bucket (or Azure container) name.
        :param cloud_provider: ``AWS``, ``AZURE`` or ``GCP``.
        :param role_id: the cloud provider access role (``iamRoleId`` on AWS); generated when None.
        :param require_private_networking: AWS only.
        :param service_url: Azure's storage account URL; derived from the name when None.
        """
        if cloud_provider not in BUCKET_PROVIDERS:
            raise ValueError(f"cloud_provider must be one of {BUCKET_PROVIDERS}")
        with self.store.lock:
            self.store.project(group_id)
            now = self.store.clock.now()
            bucket = ExportBucket(
                id=self.store.ids.object_id(now),
                group_id=group_id,
                bucket_name=bucket_name,
                cloud_provider=cloud_provider,
                role_id=role_id or self.store.ids.object_id(now),
                require_private_networking=require_private_networking,
            )
            if cloud_provider == "AZURE":
                bucket.service_url = (
                    service_url or f"https://emulatoraccount.blob.core.windows.net/{bucket_name}"
                )
                bucket.tenant_id = "4297fc77-1592-4de8-a6d5-a8c32401df87"
            self.buckets.setdefault(group_id, {})[bucket.id] = bucket
            return bucket

    def bucket(self, group_id: str, bucket_id: str) -> ExportBucket:
        """Return a project's bucket or raise 404.

        :param group_id: project id.
        :param bucket_id: bucket id.
        """
        self.store.project(group_id)
        try:
            return self.buckets.get(group_id, {})[bucket_id]
        except KeyError:
            raise resource_not_found(bucket_id) from None

    def buckets_of(self, group_id: str) -> list[ExportBucket]:
        """Return a project's buckets, oldest first.

        :param group_id: project id.
        """
        self.store.project(group_id)
        return list(self.buckets.get(group_id, {}).values())

    # -- export jobs ---------------------------------------------------------------------
    def add_export_job(
        self,
        group_id: str,
        cluster_name: str,
        snapshot_id: str,
        export_bucket_id: str,
        *,
        custom_data: list[dict[str, Any]] | None = None,
        queued_seconds: float | None = None,
        in_progress_seconds: float | None = None,
    ) -> StoredExportJob:
        """Export a completed snapshot into a bucket of the project (400 if it is not completed).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: the snapshot to export.
        :param export_bucket_id: the bucket.
        :param custom_data: ``[{"key", "value"}]`` for the metadata file.
        :param queued_seconds: clock seconds ``Queued``; the timings' when None.
        :param in_progress_seconds: clock seconds ``InProgress``; the timings' when None.
        """
        with self.store.lock:
            cluster = self.store.cluster(group_id, cluster_name)
            snap = self.store.snapshot(group_id, cluster_name, snapshot_id)
            self.bucket(group_id, export_bucket_id)
            if snap.status != "completed":
                raise AtlasError(
                    400,
                    "INVALID_ATTRIBUTE",
                    f"Snapshot {snap.id} is {snap.status}, not completed: only a completed snapshot can be exported.",
                    [snap.id],
                )
            now = self.store.clock.now()
            project = self.store.project(group_id)
            taken = datetime.fromtimestamp(int(snap.created_at), tz=timezone.utc).strftime("%Y-%m-%dT%H%M")
            job = StoredExportJob(
                id=self.store.ids.object_id(now),
                group_id=group_id,
                cluster_name=cluster_name,
                snapshot_id=snap.id,
                export_bucket_id=export_bucket_id,
                prefix=f"exported_snapshots/{project.org_id}/{group_id}/{cluster_name}/{taken}/{int(now)}",
                created_at=now,
                queued_seconds=max(
                    0.0, self.timings.export_queued if queued_seconds is None else queued_seconds
                ),
                in_progress_seconds=max(
                    0.0,
                    self.timings.export_in_progress if in_progress_seconds is None else in_progress_seconds,
                ),
                custom_data=list(custom_data or []),
            )
            if cluster.sharded:
                shards = [rs for rs in cluster.replica_set_names if "-config-" not in rs]
                job.components = [(rs, self.store.ids.object_id(now)) for rs in shards]
            self.exports.setdefault((group_id, cluster_name), {})[job.id] = job
            return job

    def export_job(self, group_id: str, cluster_name: str, export_id: str) -> StoredExportJob:
        """Return an export job or raise 404.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param export_id: export job id.
        """
        self.store.cluster(group_id, cluster_name)
        try:
            return self.exports.get((group_id, cluster_name), {})[export_id]
        except KeyError:
            raise resource_not_found(export_id) from None

    def export_jobs_newest_first(self, group_id: str, cluster_name: str) -> list[StoredExportJob]:
        """Return a cluster's export jobs, newest first.

        :param group_id: project id.
        :param cluster_name: cluster name.
        """
        self.store.cluster(group_id, cluster_name)
        return list(reversed(self.exports.get((group_id, cluster_name), {}).values()))

    # -- collection restore jobs ---------------------------------------------------------
    def add_collection_restore_job(
        self,
        group_id: str,
        cluster_name: str,
        request: dict[str, Any],
        *,
        initializing_seconds: float | None = None,
        in_progress_seconds: float | None = None,
        finalizing_seconds: float | None = None,
        database_collections: tuple[str, ...] = DATABASE_COLLECTIONS,
    ) -> StoredCollectionRestoreJob:
        """Start a collection restore from a validated create body.

        :param group_id: project id (of the source cluster).
        :param cluster_name: source cluster.
        :param request: the create body (``targetClusterName``, strategies, namespaces ...).
        :param initializing_seconds: clock seconds ``INITIALIZING``; the timings' when None.
        :param in_progress_seconds: clock seconds ``IN_PROGRESS``; the timings' when None.
        :param finalizing_seconds: clock seconds ``FINALIZING``; the timings' when None.
        :param database_collections: the collections each restored database holds.
        """
        timings = self.timings
        with self.store.lock:
            self.store.cluster(group_id, cluster_name)
            now = self.store.clock.now()
            job = StoredCollectionRestoreJob(
                id=self.store.ids.object_id(now),
                group_id=group_id,
                cluster_name=cluster_name,
                created_at=now,
                request=dict(request),
                collections=_collections(request, database_collections),
                initializing_seconds=_given(initializing_seconds, timings.collection_restore_initializing),
                in_progress_seconds=_given(in_progress_seconds, timings.collection_restore_in_progress),
                finalizing_seconds=_given(finalizing_seconds, timings.collection_restore_finalizing),
            )
            self.collection_restores.setdefault((group_id, cluster_name), {})[job.id] = job
            return job

    def collection_restore_job(
        self, group_id: str, cluster_name: str, job_id: str
    ) -> StoredCollectionRestoreJob:
        """Return a collection restore job or raise 404.

        :param group_id: project id.
        :param cluster_name: source cluster.
        :param job_id: job id.
        """
        self.store.cluster(group_id, cluster_name)
        try:
            return self.collection_restores.get((group_id, cluster_name), {})[job_id]
        except KeyError:
            raise resource_not_found(job_id) from None

    def collection_restore_jobs_newest_first(
        self, group_id: str, cluster_name: str
    ) -> list[StoredCollectionRestoreJob]:
        """Return a cluster's collection restore jobs, newest first.

        :param group_id: project id.
        :param cluster_name: source cluster.
        """
        self.store.cluster(group_id, cluster_name)
        return list(reversed(self.collection_restores.get((group_id, cluster_name), {}).values()))


def _given(value: float | None, default: float) -> float:
    return max(0.0, default if value is None else value)


def _with_suffix(namespace: str, database_suffix: str, collection_suffix: str) -> str:
    database, _, collection = namespace.partition(".")
    return f"{database}{database_suffix}.{collection}{collection_suffix}"


def _collections(request: dict[str, Any], database_collections: tuple[str, ...]) -> list[RestoredCollection]:
    """Expand the create body's databases and collections into the collections restored."""
    database_suffix = request.get("databaseSuffix") or ""
    collection_suffix = request.get("collectionSuffix") or ""
    pairs: list[tuple[str, str]] = []
    for entry in request.get("databases") or []:
        source = entry["sourceNamespace"]
        target = entry.get("targetNamespace") or source
        pairs.extend((f"{source}.{name}", f"{target}.{name}") for name in database_collections)
    for entry in request.get("collections") or []:
        pairs.append((entry["sourceNamespace"], entry.get("targetNamespace") or entry["sourceNamespace"]))
    return [
        RestoredCollection(
            source_namespace=source,
            target_namespace=target,
            effective_target_namespace=_with_suffix(target, database_suffix, collection_suffix),
            total_documents=documents_of(source),
        )
        for source, target in pairs
    ]
