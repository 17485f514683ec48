"""
An event trigger for ``AssetWatcher``: one event for each new completed snapshot of an Atlas cluster.

Airflow 3 only (``BaseEventTrigger``); on 2.11 this module imports, and building the trigger
raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasInputError`. See ``docs/events.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_flag,
    validate_group_id_or_default,
    validate_positive_seconds,
)
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind, given_kind, kind_from_error_code

# The snapshot marks, their stores and the snapshot choice are imported in the triggerer, where
# the trigger runs, not when a watcher DAG builds it at parse (benchmark figure 4p).
if TYPE_CHECKING:
    from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient
    from airflow_provider_atlas_restore.models.snapshot_marks import SnapshotMark
    from airflow_provider_atlas_restore.triggers.event_marks import MarkStore

try:  # Airflow 3.0+
    from airflow.triggers.base import BaseEventTrigger, TriggerEvent

    HAS_EVENT_TRIGGERS = True
except ImportError:  # Airflow 2.11: no event-driven scheduling
    from airflow.triggers.base import BaseTrigger as BaseEventTrigger  # type: ignore[assignment]
    from airflow.triggers.base import TriggerEvent

    HAS_EVENT_TRIGGERS = False

__all__ = ["DEFAULT_POLL_INTERVAL", "AtlasSnapshotEventTrigger"]

#: Seconds between two looks at the cluster's snapshots (one or two requests a look).
DEFAULT_POLL_INTERVAL = 300.0
#: Snapshots read per page: a dedicated cluster's newest come first, so one page is a look.
ITEMS_PER_PAGE = 100
#: Pages one look reads at the most (the first look, and a flex cluster's oldest-first list).
MAX_PAGES = 20
_MARK_PREFIX = "atlas_snapshot_events"


class AtlasSnapshotEventTrigger(BaseEventTrigger):
    """
    Fire once for each new completed snapshot of a cluster (dedicated or flex), for an ``AssetWatcher``.

    Every ``poll_interval`` seconds it lists the cluster's snapshots through the triggerer's
    shared Atlas client and yields one event per completed snapshot it has not announced, oldest
    first: ``{"cluster_name", "group_id", "snapshot_id", "created_at", "cluster_kind",
    "snapshot_type"}`` (never a link). What was announced is kept in a durable mark (the watched
    asset's state on Airflow 3.3, else a Variable) written before the event is yielded, so a
    snapshot is never announced twice, also across a triggerer restart. Transient faults (429,
    5xx, connection errors) are retried and then waited out until the next look; 401, 403 and 404
    end the trigger with the error.

    :param cluster_name: the cluster whose snapshots are watched.
    :param group_id: the project id; defaults to the connection's ``group_id`` extra.
    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param cluster_type: ``"auto"`` (asked once, in the triggerer), ``"dedicated"`` or ``"flex"``.
    :param sharded: watch a sharded cluster's snapshots (dedicated only).
    :param include_existing: also announce the completed snapshots there when the watcher first
        looks (default: only those completed later).
    :param poll_interval: seconds between two looks (default 300).
    """

    def __init__(
        self,
        *,
        cluster_name: str,
        group_id: str | None = None,
        atlas_conn_id: str = "mongodb_atlas_default",
        cluster_type: str = "auto",
        sharded: bool = False,
        include_existing: bool = False,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        if not HAS_EVENT_TRIGGERS:
            raise AtlasInputError(
                "AtlasSnapshotEventTrigger needs Airflow 3 (BaseEventTrigger and AssetWatcher); "
                "on Airflow 2.11 schedule a DAG and read the newest snapshot with AtlasHook instead."
            )
        super().__init__()
        self.cluster_name = validate_cluster_name(cluster_name)
        self.group_id = validate_group_id_or_default(group_id)
        self.atlas_conn_id = validate_conn_id(atlas_conn_id)
        self.cluster_type = validate_cluster_type(cluster_type)
        self.sharded = validate_flag(sharded, "sharded")
        self.include_existing = validate_flag(include_existing, "include_existing")
        self.poll_interval = validate_positive_seconds(poll_interval, "poll_interval")
        if self.sharded and self.cluster_type == ClusterKind.FLEX.value:
            raise AtlasInputError(
                "A flex cluster is never sharded: leave sharded=False with cluster_type='flex'."
            )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger (no secret)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "cluster_name": self.cluster_name,
                "group_id": self.group_id,
                "atlas_conn_id": self.atlas_conn_id,
                "cluster_type": self.cluster_type,
                "sharded": self.sharded,
                "include_existing": self.include_existing,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Look at the cluster's snapshots every ``poll_interval`` seconds; yield one event per new one."""
        # Imported here, in the triggerer: a DAG file that builds the trigger loads no HTTP client.
        from airflow_provider_atlas_restore.client.async_client import (
            AtlasAsyncClient,
            load_connection_config,
        )
        from airflow_provider_atlas_restore.client.retry import is_retryable
        from airflow_provider_atlas_restore.models.snapshot_marks import SnapshotMark
        from airflow_provider_atlas_restore.triggers.event_marks import choose_mark_store, mark_key

        config = await load_connection_config(self.atlas_conn_id)
        group = self.group_id or config.group_id
        if not group:
            raise AtlasInputError(
                f"No project: give group_id, or set the group_id extra of connection {self.atlas_conn_id!r}."
            )
        kind = given_kind(self.cluster_type)
        key = mark_key(_MARK_PREFIX, group, self.cluster_name, "sharded" if self.sharded else "replicaSet")
        store, stored = await choose_mark_store(self.asset_state_store_or_none(), key, self.log)
        mark = SnapshotMark.from_json(stored)  # None: a new watcher, whose first look is the baseline
        async with AtlasAsyncClient(config, logger=self.log) as client:
            while True:
                try:
                    listing, kind = await self._list(client, group, kind, mark)
                except AtlasApiError as error:
                    if not is_retryable(error):
                        self.log.error(
                            "Cannot watch the snapshots of cluster %s: %s", self.cluster_name, error
                        )
                        raise
                    self.log.warning(
                        "Snapshots of cluster %s: no usable answer this time (next look in %.0f s): %s",
                        self.cluster_name,
                        self.poll_interval,
                        error,
                    )
                else:
                    if mark is None:
                        mark = await self._start_mark(store, key, listing)
                    for snapshot in mark.new_snapshots(listing):
                        mark.remember(snapshot)
                        await store.save(key, mark.to_json())  # before the event: never announced twice
                        event = self._event(snapshot, group, kind)
                        self.log.info(
                            "New completed snapshot %s of cluster %s", event["snapshot_id"], self.cluster_name
                        )
                        yield TriggerEvent(event)
                await asyncio.sleep(self.poll_interval)

    def asset_state_store_or_none(self) -> Any:
        """Return the watched asset's state store the triggerer injected (Airflow 3.3+), or ``None``."""
        return getattr(self, "asset_state_store", None)

    async def _start_mark(self, store: MarkStore, key: str, listing: list[dict[str, Any]]) -> SnapshotMark:
        """Return the first mark: every completed snapshot seen (none with ``include_existing``), stored."""
        from airflow_provider_atlas_restore.models.snapshot_marks import SnapshotMark

        mark = SnapshotMark() if self.include_existing else SnapshotMark.baseline(listing)
        await store.save(key, mark.to_json())
        self.log.info(
            "Watching cluster %s from now on: %d completed snapshots there already %s.",
            self.cluster_name,
            len(SnapshotMark.baseline(listing).seen),
            "are announced" if self.include_existing else "are not announced",
        )
        return mark

    def _event(self, snapshot: Mapping[str, Any], group: str, kind: ClusterKind | None) -> dict[str, Any]:
        from airflow_provider_atlas_restore.models.snapshot_choice import snapshot_taken_at

        taken = snapshot_taken_at(snapshot)
        return {
            "cluster_name": self.cluster_name,
            "group_id": group,
            "snapshot_id": str(snapshot["id"]),
            "created_at": taken.isoformat().replace("+00:00", "Z") if taken else None,
            "cluster_kind": (kind or ClusterKind.DEDICATED).value,
            "snapshot_type": snapshot.get("snapshotType"),
        }

    async def _list(
        self, client: AtlasAsyncClient, group: str, kind: ClusterKind | None, mark: SnapshotMark | None
    ) -> tuple[list[dict[str, Any]], ClusterKind]:
        """
        Return the snapshots to look at and the cluster's kind, telling the kind (once) from the answer.

        With ``cluster_type="auto"`` the dedicated listing is sent first; the cluster API's
        ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API`` sends it to the flex API, as the sync hook does
        (:func:`~airflow_provider_atlas_restore.models.cluster_kind.kind_from_error_code`).
        """
        if kind is ClusterKind.FLEX:
            return await self._list_flex(client, group), kind
        try:
            listing = await self._list_dedicated(client, group, mark)
        except AtlasApiError as error:
            if kind is not None or kind_from_error_code(error.error_code) is not ClusterKind.FLEX:
                raise
            self.log.info(
                "Cluster %s is a flex cluster (the cluster API said so): using the flex API",
                self.cluster_name,
            )
            if self.sharded:
                raise AtlasInputError(
                    f"Cluster {self.cluster_name} is a flex cluster, never sharded: leave sharded=False."
                ) from None
            return await self._list_flex(client, group), ClusterKind.FLEX
        if kind is None:
            self.log.info("Cluster %s is a dedicated cluster: using the cluster API", self.cluster_name)
        return listing, ClusterKind.DEDICATED

    async def _list_dedicated(
        self, client: AtlasAsyncClient, group: str, mark: SnapshotMark | None
    ) -> list[dict[str, Any]]:
        """Read newest-first pages until one holds a snapshot the mark has seen (the first look reads all)."""
        from airflow_provider_atlas_restore.api.paging import Page  # in the triggerer, not at DAG parse

        listing: list[dict[str, Any]] = []
        for page_num in range(1, MAX_PAGES + 1):
            request = client.api.list_snapshots_request(
                group,
                self.cluster_name,
                sharded=self.sharded,
                page_num=page_num,
                items_per_page=ITEMS_PER_PAGE,
            )
            page = Page.from_body(request, await client.run(request), page_num, ITEMS_PER_PAGE)
            listing += page.results
            if page.is_last or (mark is not None and any(not mark.is_new(snap) for snap in page.results)):
                break
        return listing

    async def _list_flex(self, client: AtlasAsyncClient, group: str) -> list[dict[str, Any]]:
        """Read a flex cluster's snapshots (oldest first, a few per cluster): every page."""
        from airflow_provider_atlas_restore.api.paging import Page  # in the triggerer, not at DAG parse

        listing: list[dict[str, Any]] = []
        for page_num in range(1, MAX_PAGES + 1):
            request = client.api.list_flex_snapshots_request(
                group, self.cluster_name, page_num, ITEMS_PER_PAGE
            )
            page = Page.from_body(request, await client.run(request), page_num, ITEMS_PER_PAGE)
            listing += page.results
            if page.is_last:
                break
        return listing
