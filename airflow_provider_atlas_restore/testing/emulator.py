"""``AtlasEmulator``: a local MongoDB Atlas Admin API for tests, demos and benchmarks."""

from __future__ import annotations

import json
import logging
import threading
from types import TracebackType
from typing import Any

from airflow_provider_atlas_restore.testing.backup_controls import BackupControls
from airflow_provider_atlas_restore.testing.clock import Clock, SystemClock
from airflow_provider_atlas_restore.testing.connections import connection_fields, connection_uri
from airflow_provider_atlas_restore.testing.digest import DigestAuthenticator
from airflow_provider_atlas_restore.testing.downloads import Downloads
from airflow_provider_atlas_restore.testing.faults import FaultRegistry
from airflow_provider_atlas_restore.testing.flex_controls import FlexControls
from airflow_provider_atlas_restore.testing.flex_downloads import FlexDownloads
from airflow_provider_atlas_restore.testing.handlers import ApiHandlers
from airflow_provider_atlas_restore.testing.ids import IdFactory
from airflow_provider_atlas_restore.testing.payloads import render_job, render_snapshot
from airflow_provider_atlas_restore.testing.seeding import Seed
from airflow_provider_atlas_restore.testing.server import HttpServer
from airflow_provider_atlas_restore.testing.state import Store
from airflow_provider_atlas_restore.testing.stats import Stats
from airflow_provider_atlas_restore.testing.switches import Setting, Settings
from airflow_provider_atlas_restore.testing.tokens import ServiceAccounts

__all__ = ["AtlasEmulator"]

logger = logging.getLogger(__name__)


class AtlasEmulator(FlexControls, BackupControls):
    """A real HTTP server on loopback that behaves like the Atlas restore-job API.

    Start it with ``with AtlasEmulator() as emu:`` or ``emu.start()`` / ``emu.stop()``.
    Switches (``ip_access_denied``, ``latency``, ``ready_after``, ``single_use_links``,
    ``v1_gone``) can be flipped at any time, also while requests are in flight.

    :param public_key: API public key (Digest user name).
    :param private_key: API private key (Digest password).
    :param nonce_ttl: seconds of clock time a Digest nonce lives (then 401 ``stale=true``).
    :param clock: time source; a :class:`ManualClock` for tests, wall time when None.
    :param token_ttl: lifetime of service-account tokens in seconds.
    :param seed: seed of the deterministic ids.
    :param host: interface to bind.
    :param port: port to bind; 0 picks a free one.
    :param ready_after: clock seconds until a job created over HTTP is ready or finished.
    :param token_rate_limit: token requests allowed per minute (0: unlimited).
    """

    def __init__(
        self,
        public_key: str = "pubkey",
        private_key: str = "privkey-0000-1111-2222-333344445555",
        nonce_ttl: float = 300.0,
        clock: Clock | None = None,
        token_ttl: int = 3600,
        *,
        seed: str = "atlas-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        ready_after: float = 0.0,
        token_rate_limit: int = 10,
    ) -> None:
        self.public_key = public_key
        self.private_key = private_key
        self.clock: Any = clock if clock is not None else SystemClock()
        self._keys = {public_key: private_key}
        self.settings = Settings(ready_after=ready_after)
        self.store = Store(self.clock, IdFactory(seed))
        self.faults = FaultRegistry()
        self.stats = Stats()
        self.digest = DigestAuthenticator(self._keys.get, self.clock, nonce_ttl)
        self.accounts = ServiceAccounts(self.clock, token_ttl, rate_limit=token_rate_limit)
        self.api = ApiHandlers(self.store, self.settings, lambda: self.base_url)
        self.downloads = Downloads(self.store, self.settings)
        self.flex_downloads = FlexDownloads(self.store, self.settings)
        self.stopping = threading.Event()
        self._http = HttpServer(self, host, port)
        self._host = host
        self._running = False
        #: What :func:`~.seeding.seed_basic` / ``seed_demo`` created, if used.
        self.seed: Seed | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> AtlasEmulator:
        """Start serving on a background thread and return self."""
        if not self._running:
            self.stopping.clear()
            self._http.start()
            self._running = True
        return self

    def stop(self) -> None:
        """Stop serving (sleeping faults and latency waits end at once)."""
        if self._running:
            self.stopping.set()
            self._http.stop()
            self._running = False

    def __enter__(self) -> AtlasEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._http.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``:0`` before start)."""
        port = self._http.port if self._running else 0
        return f"http://{self._host}:{port}"

    # -- switches ------------------------------------------------------------------------
    ip_access_denied: Setting[bool] = Setting("Answer every API call 403 IP_ADDRESS_NOT_ON_ACCESS_LIST.")
    latency: Setting[float] = Setting("Seconds of real time added before every answer.")
    ready_after: Setting[float] = Setting("Clock seconds until a job created over HTTP is ready.")
    single_use_links: Setting[bool] = Setting("A fully sent download link answers 410 afterwards.")
    v1_gone: Setting[bool] = Setting("Answer every v1.0 call 410 VERSION_GONE.")

    @property
    def nonce_ttl(self) -> float:
        """Seconds a Digest nonce lives."""
        return self.digest.nonce_ttl

    @nonce_ttl.setter
    def nonce_ttl(self, value: float) -> None:
        self.digest.nonce_ttl = value

    # -- credentials and connections -----------------------------------------------------
    def add_api_key(self, public_key: str, private_key: str) -> None:
        """Accept another API key pair.

        :param public_key: Digest user name.
        :param private_key: Digest password.
        """
        self._keys[public_key] = private_key

    def add_service_account(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Register a service account and return ``(client_id, secret)``.

        :param client_id: e.g. ``mdb_sa_id_...``; generated when None.
        :param secret: e.g. ``mdb_sa_sk_...``; generated when None.
        """
        now = self.clock.now()
        client_id = client_id or f"mdb_sa_id_{self.store.ids.object_id(now)}"
        secret = secret or f"mdb_sa_sk_{self.store.ids.token(40)}"
        self.accounts.add(client_id, secret)
        return client_id, secret

    def connection(
        self, group_id: str | None = None, *, service_account: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """Return the fields of an Airflow Connection pointing at this emulator.

        The extras say ``scheme=http`` and ``allow_http_downloads=true``: the emulator serves its
        API and its snapshot links over plain http, so a connection without them stops at the
        first download.

        :param group_id: default project id stored in ``extra``.
        :param service_account: ``(client_id, secret)`` from :meth:`add_service_account`, to
            authenticate with OAuth instead of the API key pair.
        """
        return connection_fields(
            self._host, self.port, (self.public_key, self.private_key), group_id, service_account
        )

    def connection_uri(
        self, group_id: str | None = None, *, service_account: tuple[str, str] | None = None
    ) -> str:
        """Return ``mongodb-atlas://pub:priv@127.0.0.1:PORT/?scheme=http&allow_http_downloads=true&...``.

        :param group_id: default project id.
        :param service_account: ``(client_id, secret)``, as for :meth:`connection`.
        """
        return connection_uri(self.connection(group_id, service_account=service_account))

    def connection_json(
        self, group_id: str | None = None, *, service_account: tuple[str, str] | None = None
    ) -> str:
        """Return :meth:`connection` as JSON, the ``AIRFLOW_CONN_...`` JSON form.

        :param group_id: default project id.
        :param service_account: ``(client_id, secret)``, as for :meth:`connection`.
        """
        return json.dumps(self.connection(group_id, service_account=service_account))

    # -- state ---------------------------------------------------------------------------
    def add_project(self, name: str = "demo", org_id: str | None = None) -> str:
        """Create a project and return its id.

        :param name: project name.
        :param org_id: organisation id; generated when None.
        """
        return self.store.add_project(name, org_id).id

    def add_cluster(self, group_id: str, name: str, sharded: bool = False, shards: int = 2) -> dict[str, Any]:
        """Create a cluster; return ``{"name", "sharded", "replicaSetNames", "deploymentItemName"}``.

        :param group_id: project id.
        :param name: cluster name.
        :param sharded: sharded cluster (``shards`` shards plus a config server).
        :param shards: number of shards.
        """
        cluster = self.store.add_cluster(group_id, name, sharded, shards)
        return {
            "name": cluster.name,
            "sharded": cluster.sharded,
            "replicaSetNames": list(cluster.replica_set_names),
            "deploymentItemName": cluster.deployment_item_name,
        }

    def set_continuous_backup(
        self,
        group_id: str,
        cluster_name: str,
        enabled: bool = True,
        *,
        restore_window_days: int | None = None,
    ) -> None:
        """Turn a cluster's continuous cloud backup (``pitEnabled``) on or off, and set its window.

        Clusters start with it on and a 7-day ``restoreWindowDays`` (the recorded default).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param enabled: the cluster's ``pitEnabled``.
        :param restore_window_days: the backup schedule's ``restoreWindowDays``; unchanged when None.
        """
        if restore_window_days is not None and restore_window_days < 1:
            raise ValueError("restore_window_days must be a positive number of days")
        with self.store.lock:
            cluster = self.store.cluster(group_id, cluster_name)
            cluster.continuous_backup = enabled
            if restore_window_days is not None:
                cluster.restore_window_days = restore_window_days

    def add_private_endpoint(self, group_id: str, endpoint_id: str | None = None) -> str:
        """Give a project a private endpoint and return its id: later download jobs carry its links.

        Each such job then lists ``privateDownloadDeliveryUrls`` (``{"deliveryUrl", "endpointId"}``)
        once ready, at the top level and on each sharded component; the links are served at
        ``/backup/private/{endpointId}/...`` (route ``private_download``).

        :param group_id: project id.
        :param endpoint_id: ``vpce-`` and 17 hex digits; generated when None.
        """
        return self.store.add_private_endpoint(group_id, endpoint_id)

    def add_snapshot(
        self,
        group_id: str,
        cluster_name: str,
        status: str = "completed",
        created_at: float | None = None,
        size_bytes: int = 10_000,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a snapshot and return its JSON (sharded form on a sharded cluster).

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param status: ``queued``, ``inProgress``, ``completed`` or ``failed``.
        :param created_at: epoch seconds; clock time when None.
        :param size_bytes: ``storageSizeBytes`` and the size of its download archives.
        :param fields: more :class:`~.state.Snapshot` fields (``snapshot_type``, ``description``).
        """
        snap = self.store.add_snapshot(group_id, cluster_name, status, created_at, size_bytes, **fields)
        return render_snapshot(snap, self._view())

    def add_restore_job(
        self,
        group_id: str,
        cluster_name: str,
        delivery_type: str = "download",
        snapshot_id: str | None = None,
        ready_after: float = 0.0,
        *,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | None = None,
        oplog_ts: int | None = None,
        oplog_inc: int | None = None,
        download_size: int | None = None,
        **extra_fields: Any,
    ) -> dict[str, Any]:
        """Create a restore job directly and return its current JSON.

        :param group_id: project id.
        :param cluster_name: source cluster.
        :param delivery_type: ``download``, ``automated`` or ``pointInTime``.
        :param snapshot_id: snapshot; the newest completed one (made if none) when None.
        :param ready_after: clock seconds until ready/finished.
        :param target_cluster_name: restore target (default: the source cluster).
        :param target_group_id: restore target project (default: the source project).
        :param point_in_time_utc_seconds: for ``pointInTime``.
        :param oplog_ts: for ``pointInTime``.
        :param oplog_inc: for ``pointInTime``.
        :param download_size: archive size in bytes (default: the snapshot's size).
        :param extra_fields: JSON fields merged verbatim into the job body.
        """
        job = self.store.add_job(
            group_id,
            cluster_name,
            delivery_type,
            snapshot_id,
            ready_after,
            target_cluster_name=target_cluster_name,
            target_group_id=target_group_id,
            point_in_time_utc_seconds=point_in_time_utc_seconds,
            oplog_ts=oplog_ts,
            oplog_inc=oplog_inc,
            download_size=download_size,
            extra=extra_fields,
        )
        return render_job(job, self._view())

    def add_restore_jobs(
        self,
        group_id: str,
        cluster_name: str,
        count: int,
        delivery_type: str = "download",
        ready_after: float = 0.0,
    ) -> list[str]:
        """Create many jobs quickly (sharing the newest completed snapshot); return their ids.

        :param group_id: project id.
        :param cluster_name: cluster name.
        :param count: number of jobs.
        :param delivery_type: delivery type of every job.
        :param ready_after: clock seconds until ready.
        """
        with self.store.lock:
            cluster = self.store.cluster(group_id, cluster_name)
            snap_id = self.store.latest_completed_snapshot(cluster).id
            return [
                self.store.add_job(group_id, cluster_name, delivery_type, snap_id, ready_after).id
                for _ in range(count)
            ]
