"""The emulator's world: every project, cluster, snapshot, restore job and download link.

The records themselves are in :mod:`.records`; the :class:`Store` creates, finds and removes them.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import replace
from typing import Any

from airflow_provider_atlas_restore.testing.backup_state import BackupStore
from airflow_provider_atlas_restore.testing.clock import Clock
from airflow_provider_atlas_restore.testing.errors import (
    cluster_not_found,
    group_not_found,
    resource_not_found,
)
from airflow_provider_atlas_restore.testing.flex_state import FlexStore
from airflow_provider_atlas_restore.testing.ids import CLUSTER_NAME_RE, IdFactory
from airflow_provider_atlas_restore.testing.records import (
    DELIVERY_TYPES,
    SNAPSHOT_STATUSES,
    Cluster,
    Project,
    ServedDownload,
    Snapshot,
    StoredRestoreJob,
)

__all__ = ["PRIVATE_ENDPOINT_RE", "Store"]

#: A private endpoint id as the spec types ``privateDownloadDeliveryUrls[].endpointId``.
PRIVATE_ENDPOINT_RE = re.compile(r"^vpce-[0-9a-f]{17}$")


class Store:
    """All emulator state behind one re-entrant lock (``store.lock``).

    :param clock: time source.
    :param ids: id factory.
    """

    def __init__(self, clock: Clock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}
        self.links: dict[str, ServedDownload] = {}
        self.url_ttl = 3600.0
        self._seq = 0
        self.flex = FlexStore(self)
        self.backups = BackupStore(self)  # on-demand snapshots, exports, collection restores

    # -- lookups -------------------------------------------------------------------------
    def project(self, group_id: str) -> Project:
        """Return a project or raise 404 ``GROUP_NOT_FOUND``.

        :param group_id: project id.
        """
        try:
            return self.projects[group_id]
        except KeyError:
            raise group_not_found(group_id) from None

    def cluster(self, group_id: str, cluster_name: str) -> Cluster:
        """Return a cluster or raise 404 ``GROUP_NOT_FOUND`` / ``CLUSTER_NOT_FOUND``.

        :param group_id: project id.
        :param cluster_name: cluster name.
        """
        try:
            cluster = self.project(group_id).clusters[cluster_name]
        except KeyError:
            raise cluster_not_found(cluster_name, group_id) from None
        self.backups.settle(cluster, self.clock.now())  # on-demand snapshots follow the clock
        return cluster

    def job(self, group_id: str, cluster_name: str, job_id: str) -> StoredRestoreJob:
        """Return a restore job or raise 404 (``RESOURCE_NOT_FOUND`` for the job).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: restore job id.
        """
        try:
            return self.cluster(group_id, cluster_name).jobs[job_id]
        except KeyError:
            raise resource_not_found(job_id) from None

    def snapshot(self, group_id: str, cluster_name: str, snapshot_id: str) -> Snapshot:
        """Return a snapshot or raise 404 (``RESOURCE_NOT_FOUND`` for the snapshot).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param snapshot_id: snapshot id.
        """
        try:
            return self.cluster(group_id, cluster_name).snapshots[snapshot_id]
        except KeyError:
            raise resource_not_found(snapshot_id) from None

    # -- creation ------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_project(self, name: str, org_id: str | None = None) -> Project:
        """Create a project.

        :param name: project name.
        :param org_id: organisation id; generated when None.
        """
        with self.lock:
            now = self.clock.now()
            project = Project(self.ids.object_id(now), name, org_id or self.ids.object_id(now), now)
            self.projects[project.id] = project
            return project

    def add_cluster(self, group_id: str, name: str, sharded: bool = False, shards: int = 2) -> Cluster:
        """Create a cluster; replica-set names follow Atlas (``atlas-abc123-shard-0`` ...).

        :param group_id: project id.
        :param name: cluster name (``^[a-zA-Z0-9][a-zA-Z0-9-]*$``).
        :param sharded: make a sharded cluster with ``shards`` shards and a config server.
        :param shards: number of shards when sharded.
        """
        if not CLUSTER_NAME_RE.match(name):
            raise ValueError(f"invalid cluster name {name!r}")
        with self.lock:
            project = self.project(group_id)
            if name in project.clusters or name in project.flex_clusters:
                raise ValueError(f"cluster {name!r} already exists in {group_id}")
            item = f"atlas-{self.ids.short()}"
            if sharded:
                names = [f"{item}-shard-{i}" for i in range(shards)] + [f"{item}-config-0"]
            else:
                names = [f"{item}-shard-0"]
            now = self.clock.now()
            # Not from self.ids: a cluster id must not shift the ids of everything made after it.
            digest = hashlib.blake2b(f"{group_id}/{name}".encode(), digest_size=8).hexdigest()
            cluster_id = f"{int(now) & 0xFFFFFFFF:08x}{digest}"
            cluster = Cluster(name, group_id, sharded, names, item, id=cluster_id, created_at=now)
            project.clusters[name] = cluster
            return cluster

    def add_snapshot(
        self,
        group_id: str,
        cluster_name: str,
        status: str = "completed",
        created_at: float | None = None,
        size_bytes: int = 10_000,
        **fields: Any,
    ) -> Snapshot:
        """Create a snapshot (sharded, with members, on a sharded cluster).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param status: ``queued``, ``inProgress``, ``completed`` or ``failed``.
        :param created_at: epoch seconds; the clock's time when None.
        :param size_bytes: ``storageSizeBytes``, and the size of its download archive(s).
        :param fields: other :class:`Snapshot` fields (``snapshot_type``, ``description`` ...).
        """
        if status not in SNAPSHOT_STATUSES:
            raise ValueError(f"status must be one of {SNAPSHOT_STATUSES}")
        with self.lock:
            cluster = self.cluster(group_id, cluster_name)
            when = self.clock.now() if created_at is None else created_at
            snap = Snapshot(
                id=self.ids.object_id(when),
                group_id=group_id,
                cluster_name=cluster_name,
                created_at=when,
                status=status,
                size_bytes=size_bytes,
                replica_set_name=None if cluster.sharded else cluster.replica_set_names[0],
                policy_item_id=self.ids.object_id(when),
                seq=self._next_seq(),
                **fields,
            )
            if cluster.sharded:
                snap.members = [(rs, self.ids.object_id(when)) for rs in cluster.replica_set_names]
            cluster.snapshots[snap.id] = snap
            return snap

    def latest_completed_snapshot(self, cluster: Cluster) -> Snapshot:
        """Return the newest completed snapshot, creating one if the cluster has none.

        :param cluster: the cluster.
        """
        for snap in cluster.snapshots_newest_first(cluster.sharded):
            if snap.status == "completed":
                return snap
        return self.add_snapshot(cluster.group_id, cluster.name)

    def add_job(
        self,
        group_id: str,
        cluster_name: str,
        delivery_type: str,
        snapshot_id: str | None,
        ready_after: float,
        *,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | None = None,
        oplog_ts: int | None = None,
        oplog_inc: int | None = None,
        download_size: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> StoredRestoreJob:
        """Create a restore job (no body validation: the HTTP layer does that).

        :param group_id: project id.
        :param cluster_name: source cluster.
        :param delivery_type: ``download``, ``automated`` or ``pointInTime``.
        :param snapshot_id: snapshot to restore; the newest completed one when None.
        :param ready_after: clock seconds until ready (download) or finished (others).
        :param target_cluster_name: target for automated and point-in-time restores.
        :param target_group_id: target project for automated and point-in-time restores.
        :param point_in_time_utc_seconds: point in time, epoch seconds.
        :param oplog_ts: oplog timestamp seconds.
        :param oplog_inc: oplog increment.
        :param download_size: archive size; the snapshot's ``size_bytes`` when None.
        :param extra: fields merged verbatim into the job's JSON.
        """
        if delivery_type not in DELIVERY_TYPES:
            raise ValueError(f"delivery_type must be one of {DELIVERY_TYPES}")
        with self.lock:
            cluster = self.cluster(group_id, cluster_name)
            if snapshot_id is None:
                snap = self.latest_completed_snapshot(cluster)
            else:
                snap = self.snapshot(group_id, cluster_name, snapshot_id)
            now = self.clock.now()
            job = StoredRestoreJob(
                id=self.ids.object_id(now),
                group_id=group_id,
                cluster_name=cluster_name,
                delivery_type=delivery_type,
                snapshot_id=snap.id,
                snapshot_time=snap.created_at,
                created_at=now,
                ready_after=max(0.0, ready_after),
                url_ttl=self.url_ttl,
                sharded=cluster.sharded,
                point_in_time_utc_seconds=point_in_time_utc_seconds,
                oplog_ts=oplog_ts,
                oplog_inc=oplog_inc,
                extra=dict(extra or {}),
            )
            if delivery_type == "download":
                size = snap.size_bytes if download_size is None else download_size
                members = snap.members or [(snap.replica_set_name or "", snap.id)]
                for rs_name, member_id in members:
                    link = ServedDownload(
                        token=self.ids.token(),
                        job=job,
                        replica_set_name=rs_name,
                        filename=f"restore-{member_id}.tar.gz",
                        archive_name=f"restore-{member_id}",
                        size=size,
                        mtime=int(snap.created_at),
                    )
                    job.links.append(link)
                    self.links[link.token] = link
                for endpoint_id in self.project(group_id).private_endpoints:
                    for public in job.links:
                        private = replace(public, token=self.ids.token(), endpoint_id=endpoint_id)
                        job.private_links.append(private)
                        self.links[private.token] = private
            else:
                job.target_group_id = target_group_id or group_id
                job.target_cluster_name = target_cluster_name or cluster_name
                target = self.projects.get(job.target_group_id)
                target_cluster = target.clusters.get(job.target_cluster_name) if target else None
                job.target_deployment_item_name = (
                    target_cluster.deployment_item_name if target_cluster else f"atlas-{self.ids.short()}"
                )
            cluster.jobs[job.id] = job
            cluster.job_order.append(job.id)
            return job

    def remove_job(
        self, group_id: str, cluster_name: str, job_id: str | None = None
    ) -> StoredRestoreJob | None:
        """Delete a job (the newest when ``job_id`` is None); return it, or None if none.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param job_id: job to delete.
        """
        with self.lock:
            cluster = self.cluster(group_id, cluster_name)
            if job_id is None:
                if not cluster.job_order:
                    return None
                job_id = cluster.job_order[-1]
            job = self.job(group_id, cluster_name, job_id)
            del cluster.jobs[job_id]
            cluster.job_order.remove(job_id)
            for link in [*job.links, *job.private_links]:
                self.links.pop(link.token, None)
            return job

    def add_private_endpoint(self, group_id: str, endpoint_id: str | None = None) -> str:
        """Give a project a private endpoint: download jobs created later also get its links.

        :param group_id: project id.
        :param endpoint_id: ``vpce-`` and 17 hex digits; generated when None.
        """
        with self.lock:
            project = self.project(group_id)
            endpoint = endpoint_id or f"vpce-{self.ids.object_id(self.clock.now())[-17:]}"
            if not PRIVATE_ENDPOINT_RE.match(endpoint):
                raise ValueError(f"invalid private endpoint id {endpoint!r}: use vpce- and 17 hex digits")
            if endpoint not in project.private_endpoints:
                project.private_endpoints.append(endpoint)
            return endpoint
