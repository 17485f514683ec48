"""
Where an event trigger keeps its mark between triggerer restarts: the watched asset's state, else a Variable.

A trigger in an ``AssetWatcher`` is rebuilt from the same keyword arguments after every restart,
so what it has already announced cannot live in them. Airflow 3.3 gives an event trigger the
watched asset's state store (``asset_state_store``, kept in the metadata database per asset, and
removed by the scheduler once no DAG uses the asset): the mark goes there. Without it (Airflow
3.0 to 3.2, or a trigger used outside a watcher) it goes into an Airflow Variable; and when
neither answers (a trigger run outside a triggerer, in tests) it stays in this process only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any, Protocol

__all__ = ["MarkStore", "choose_mark_store", "mark_key"]

log = logging.getLogger(__name__)

#: Marks kept in memory when no durable store answers, by key (lost when the process ends).
_MEMORY: dict[str, Any] = {}


def mark_key(prefix: str, *parts: str) -> str:
    """
    Return the key of a mark: ``prefix`` and a digest of what the watcher watches (ids only).

    :param prefix: what kind of mark it is, e.g. ``atlas_snapshot_events``.
    :param parts: the ids that tell one watcher's mark from another's.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{prefix}.{digest}"


class MarkStore(Protocol):
    """A place that keeps one JSON value by key across triggerer restarts."""

    #: How the log names this store.
    label: str

    async def load(self, key: str) -> Any:
        """Return the value stored under ``key``, or ``None``."""

    async def save(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""


class AssetStateMarks:
    """
    The watched asset's state store (Airflow 3.3+), as the triggerer gives it to an event trigger.

    :param accessor: the trigger's ``asset_state_store``: ``aget``/``aset`` (3.3.2+) or ``get``/``set``.
    """

    label = "the watched asset's state store"

    def __init__(self, accessor: Any) -> None:
        self.accessor = accessor

    async def load(self, key: str) -> Any:
        """Return the value stored under ``key``, or ``None``; ``ValueError`` when several assets are watched."""
        if hasattr(self.accessor, "aget"):
            return await self.accessor.aget(key, default=None)
        return await asyncio.to_thread(self.accessor.get, key, default=None)

    async def save(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        if hasattr(self.accessor, "aset"):
            await self.accessor.aset(key, value)
        else:
            await asyncio.to_thread(self.accessor.set, key, value)


class VariableMarks:
    """An Airflow Variable per mark (JSON), read and written through the Task SDK."""

    label = "an Airflow Variable"

    async def load(self, key: str) -> Any:
        """Return the Variable ``key`` as JSON, or ``None`` when there is none."""
        from airflow.sdk import Variable

        return await asyncio.to_thread(Variable.get, key, default=None, deserialize_json=True)

    async def save(self, key: str, value: Any) -> None:
        """Store ``value`` as the Variable ``key`` (JSON)."""
        from airflow.sdk import Variable

        await asyncio.to_thread(
            Variable.set,
            key,
            value,
            description="Snapshots already announced by an AtlasSnapshotEventTrigger (ids and times).",
            serialize_json=True,
        )


class MemoryMarks:
    """This process's memory: the last resort, which a restart loses."""

    label = "this process's memory (lost on a restart)"

    async def load(self, key: str) -> Any:
        """Return the value kept under ``key``, or ``None``."""
        return _MEMORY.get(key)

    async def save(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""
        _MEMORY[key] = value


async def choose_mark_store(asset_state_store: Any, key: str, logger: Any = log) -> tuple[MarkStore, Any]:
    """
    Return the first store that answers (asset state, Variable, memory) and the mark it holds under ``key``.

    :param asset_state_store: the trigger's ``asset_state_store`` (``None`` outside an Airflow 3.3 watcher).
    :param key: the mark's key.
    :param logger: where the choice (and why a store was passed over) is logged.
    """
    stores: list[MarkStore] = []
    if asset_state_store is not None:
        stores.append(AssetStateMarks(asset_state_store))
    stores += [VariableMarks(), MemoryMarks()]
    for store in stores:
        try:
            value = await store.load(key)
        except Exception as error:  # the next store is tried; the log says why
            logger.warning("Cannot keep the mark in %s: %s", store.label, error)
            continue
        if isinstance(store, MemoryMarks):
            logger.warning(
                "The mark %s is kept in %s: after a triggerer restart, snapshots may be announced again.",
                key,
                store.label,
            )
        else:
            logger.info("The mark %s is kept in %s.", key, store.label)
        return store, value
    raise AssertionError("MemoryMarks always answers")  # pragma: no cover
