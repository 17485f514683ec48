"""The flex part of the emulator's world: create, find and remove flex clusters, snapshots and jobs.

Flex clusters live in their project beside the dedicated ones (``Project.flex_clusters``):
the two kinds share one namespace of cluster names, as in Atlas.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from airflow_provider_atlas_restore.testing.errors import cluster_not_found, resource_not_found
from airflow_provider_atlas_restore.testing.flex_records import (
    FLEX_STATUSES,
    SNAPSHOT_URL_SECONDS,
    FlexCluster,
    FlexRestoreJob,
    FlexSnapshot,
    FlexSnapshotLink,
)
from airflow_provider_atlas_restore.testing.ids import CLUSTER_NAME_RE

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.state import Store

__all__ = ["FlexStore"]


class FlexStore:
    """Flex clusters and what they hold, behind the emulator store's lock.

    :param store: the emulator store (its lock, clock, ids and projects).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.links: dict[str, FlexSnapshotLink] = {}  # snapshotUrl token -> link
        self._seq = 0  # orders snapshots made in the same second

    # -- lookups -------------------------------------------------------------------------
    def is_flex(self, group_id: str, name: str) -> bool:
        """Return True when ``name`` is a flex cluster of an existing project.

        :param group_id: project id.
        :param name: cluster name.
        """
        project = self._store.projects.get(group_id)
        return project is not None and name in project.flex_clusters

    def cluster(self, group_id: str, name: str) -> FlexCluster:
        """Return a flex cluster or raise 404 ``GROUP_NOT_FOUND`` / ``CLUSTER_NOT_FOUND``.

        :param group_id: project id.
        :param name: flex cluster name.
        """
        try:
            return self._store.project(group_id).flex_clusters[name]
        except KeyError:
            raise cluster_not_found(name, group_id) from None

    def job(self, group_id: str, name: str, job_id: str) -> FlexRestoreJob:
        """Return a flex restore job or raise 404 (``RESOURCE_NOT_FOUND`` for the job).

        :param group_id: project id.
        :param name: flex cluster name.
        :param job_id: restore job id.
        """
        try:
            return self.cluster(group_id, name).jobs[job_id]
        except KeyError:
            raise resource_not_found(job_id) from None

    def snapshot(self, group_id: str, name: str, snapshot_id: str) -> FlexSnapshot:
        """Return a flex snapshot or raise 404 (``RESOURCE_NOT_FOUND`` for the snapshot).

        :param group_id: project id.
        :param name: flex cluster name.
        :param snapshot_id: snapshot id.
        """
        try:
            return self.cluster(group_id, name).snapshots[snapshot_id]
        except KeyError:
            raise resource_not_found(snapshot_id) from None

    # -- creation ------------------------------------------------------------------------
    def add_cluster(self, group_id: str, name: str, served_by_cluster_api: bool = False) -> FlexCluster:
        """Create a flex cluster (its name must be free among dedicated and flex clusters).

        :param group_id: project id.
        :param name: cluster name (``^[a-zA-Z0-9][a-zA-Z0-9-]*$``).
        :param served_by_cluster_api: the cluster API's GET answers 200 for it.
        """
        if not CLUSTER_NAME_RE.match(name):
            raise ValueError(f"invalid cluster name {name!r}")
        with self._store.lock:
            project = self._store.project(group_id)
            if name in project.clusters or name in project.flex_clusters:
                raise ValueError(f"cluster {name!r} already exists in {group_id}")
            now = self._store.clock.now()
            # Like dedicated clusters: a cluster id must not shift the ids made after it.
            digest = hashlib.blake2b(f"flex/{group_id}/{name}".encode(), digest_size=8).hexdigest()
            cluster = FlexCluster(
                name,
                group_id,
                id=f"{int(now) & 0xFFFFFFFF:08x}{digest}",
                created_at=now,
                served_by_cluster_api=served_by_cluster_api,
            )
            project.flex_clusters[name] = cluster
            return cluster

    def add_snapshot(
        self,
        group_id: str,
        name: str,
        status: str = "COMPLETED",
        created_at: float | None = None,
        size_bytes: int = 10_000,
    ) -> FlexSnapshot:
        """Create a flex snapshot.

        :param group_id: project id.
        :param name: flex cluster name.
        :param status: one of ``PENDING``, ``QUEUED``, ``RUNNING``, ``COMPLETED``, ``FAILED``.
        :param created_at: its ``scheduledTime``, epoch seconds; the clock's time when None.
        :param size_bytes: size of the archive its ``snapshotUrl`` serves.
        """
        if status not in FLEX_STATUSES:
            raise ValueError(f"status must be one of {FLEX_STATUSES}")
        with self._store.lock:
            cluster = self.cluster(group_id, name)
            when = self._store.clock.now() if created_at is None else created_at
            self._seq += 1
            snap = FlexSnapshot(
                id=self._store.ids.object_id(when),
                group_id=group_id,
                cluster_name=name,
                scheduled_at=when,
                status=status,
                size_bytes=size_bytes,
                seq=self._seq,
            )
            cluster.snapshots[snap.id] = snap
            return snap

    def latest_completed_snapshot(self, cluster: FlexCluster) -> FlexSnapshot:
        """Return the newest COMPLETED snapshot, creating one if the cluster has none.

        :param cluster: the flex cluster.
        """
        for snap in reversed(cluster.snapshots_oldest_first()):
            if snap.status == "COMPLETED":
                return snap
        return self.add_snapshot(cluster.group_id, cluster.name)

    def add_job(
        self,
        group_id: str,
        name: str,
        snapshot_id: str | None,
        ready_after: float,
        *,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
    ) -> FlexRestoreJob:
        """Create a flex restore job (``RESTORE``; no body validation: the HTTP layer does that).

        :param group_id: project id.
        :param name: source flex cluster.
        :param snapshot_id: snapshot to restore; the newest completed one when None.
        :param ready_after: clock seconds until COMPLETED.
        :param target_cluster_name: ``targetDeploymentItemName`` (default: the source cluster).
        :param target_group_id: ``targetProjectId`` (default: the source project).
        """
        with self._store.lock:
            cluster = self.cluster(group_id, name)
            snap = self._snapshot_or_latest(cluster, snapshot_id)
            job = self._new_job(cluster, snap, ready_after)
            job.target_deployment_item_name = target_cluster_name or name
            job.target_project_id = target_group_id or group_id
            return job

    def add_download(self, group_id: str, name: str, snapshot_id: str) -> FlexRestoreJob:
        """Answer ``POST backup/download``: a COMPLETED ``DOWNLOAD`` job whose ``snapshotUrl`` lives 4 h.

        :param group_id: project id.
        :param name: flex cluster name.
        :param snapshot_id: the snapshot to serve.
        """
        with self._store.lock:
            cluster = self.cluster(group_id, name)
            snap = self.snapshot(group_id, name, snapshot_id)
            job = self._new_job(cluster, snap, 0.0)
            job.delivery_type = "DOWNLOAD"
            job.link = FlexSnapshotLink(
                token=self._store.ids.token(),
                job_id=job.id,
                filename=f"{snap.id}.tgz",
                archive_name=f"flex-{snap.id}",
                size=snap.size_bytes,
                mtime=int(snap.finished_at),
                expires_at=job.created_at + SNAPSHOT_URL_SECONDS,
            )
            self.links[job.link.token] = job.link
            return job

    def remove_job(self, group_id: str, name: str, job_id: str) -> FlexRestoreJob:
        """Delete a flex job (and its snapshot link); later GETs answer 404.

        :param group_id: project id.
        :param name: flex cluster name.
        :param job_id: job id.
        """
        with self._store.lock:
            cluster = self.cluster(group_id, name)
            job = self.job(group_id, name, job_id)
            del cluster.jobs[job_id]
            cluster.job_order.remove(job_id)
            if job.link is not None:
                self.links.pop(job.link.token, None)
            return job

    def mutate(self, kind: str, group_id: str, name: str, job_id: str | None, ready_after: float) -> None:
        """Act out an ``insert_job`` fault (a new restore job) or a ``remove_job`` one (``job_id``, else the newest).

        :param kind: ``insert_job`` or ``remove_job``.
        :param group_id: project id.
        :param name: flex cluster name.
        :param job_id: the job to remove; the newest when None.
        :param ready_after: clock seconds until an inserted job is COMPLETED.
        """
        with self._store.lock:
            if kind == "insert_job":
                self.add_job(group_id, name, None, ready_after)
                return
            order = self.cluster(group_id, name).job_order
            if job_id is None and not order:
                return
            self.remove_job(group_id, name, job_id or order[-1])

    def _snapshot_or_latest(self, cluster: FlexCluster, snapshot_id: str | None) -> FlexSnapshot:
        if snapshot_id is None:
            return self.latest_completed_snapshot(cluster)
        return self.snapshot(cluster.group_id, cluster.name, snapshot_id)

    def _new_job(self, cluster: FlexCluster, snap: FlexSnapshot, ready_after: float) -> FlexRestoreJob:
        now = self._store.clock.now()
        job = FlexRestoreJob(
            id=self._store.ids.object_id(now),
            group_id=cluster.group_id,
            cluster_name=cluster.name,
            snapshot_id=snap.id,
            snapshot_finished_at=snap.finished_at,
            created_at=now,
            ready_after=max(0.0, ready_after),
        )
        cluster.jobs[job.id] = job
        cluster.job_order.append(job.id)
        return job
