"""Helpers of the on-demand snapshot operator tests: the emulator's snapshots, POST counts, triggers, acting after a look."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.backup_records import OnDemandSnapshot

CLUSTER = "Cluster0"
SHARDED = "Shard0"
MODES = ("poke", "deferrable")


def on_demand_snapshots(emulator: AtlasEmulator, cluster: str = CLUSTER) -> list[dict[str, Any]]:
    """Return every on-demand snapshot of ``cluster`` as a GET would show it now, oldest first."""
    seed = emulator.seed
    assert seed is not None
    stored = emulator.store.cluster(seed.group_id, cluster).snapshots.values()
    taken = sorted((snap for snap in stored if isinstance(snap, OnDemandSnapshot)), key=lambda snap: snap.seq)
    return [emulator.snapshot(seed.group_id, cluster, snap.id) for snap in taken]


def posts(emulator: AtlasEmulator, status: int = 200) -> int:
    """Return how many take-snapshot requests the emulator answered with ``status`` (0: cut off)."""
    return emulator.stats.count(route="take_snapshot", method="POST", status=status)


def snapshot_reads(emulator: AtlasEmulator) -> int:
    """Return how many snapshot reads (replica set or sharded) the emulator answered with 200."""
    return emulator.stats.count(route="get_snapshot", status=200) + emulator.stats.count(
        route="get_sharded_snapshot", status=200
    )


@contextmanager
def after_looks(emulator: AtlasEmulator, action: Callable[[], Any], looks: int = 1) -> Iterator[None]:
    """Run ``action`` in a thread once a task has read a snapshot ``looks`` times."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 120
        while snapshot_reads(emulator) < looks and time.monotonic() < deadline:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def quick_retries(emulator: AtlasEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the default connection at the emulator with short retry waits (2 attempts a call)."""
    seed = emulator.seed
    assert seed is not None
    connection = emulator.connection(group_id=seed.group_id)
    connection["extra"].update(retry_max_attempts=2, retry_initial_wait=0.01, retry_max_wait=0.02)
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
