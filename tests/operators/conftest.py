"""Fixtures of the operator tests: an Atlas emulator with a project, its clusters and a connection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_atlas_restore.operators import download as download_module
from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from tests.operators.download_helpers import CLUSTER, CONN_ID, SHARDED


@pytest.fixture
def emu() -> Iterator[AtlasEmulator]:
    # A seed of its own: links differ from other tests', so masking done there cannot help here.
    emulator = AtlasEmulator(clock=ManualClock(), seed=uuid.uuid4().hex)
    with emulator:
        yield emulator


@pytest.fixture
def group_id(emu: AtlasEmulator) -> str:
    gid = emu.add_project()
    emu.add_cluster(gid, CLUSTER)
    emu.add_cluster(gid, SHARDED, sharded=True, shards=2)
    return gid


@pytest.fixture
def connect(emu: AtlasEmulator, group_id: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Define the emulator connection, with or without the allow_http_downloads extra."""

    def define(allow_http_downloads: bool = True) -> str:
        connection = emu.connection(group_id=group_id)
        connection["extra"]["allow_http_downloads"] = allow_http_downloads
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
        return CONN_ID

    define()
    return define


@pytest.fixture
def emulator_time(emu: AtlasEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge link expiry by the emulator's manual clock, not by the wall clock."""
    monkeypatch.setattr(
        download_module, "_utcnow", lambda: datetime.fromtimestamp(emu.clock.now(), tz=timezone.utc)
    )


@pytest.fixture
def resource_triggers_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the watched resource of each AtlasResourceTrigger that runs (dag.test runs them in this process)."""
    from airflow_provider_atlas_restore.triggers.polling import AtlasResourceTrigger

    runs: list[dict[str, Any]] = []
    real_run = AtlasResourceTrigger.run

    def recorded_run(self: AtlasResourceTrigger) -> Any:
        runs.append(self.serialize()[1]["resource"])
        return real_run(self)

    monkeypatch.setattr(AtlasResourceTrigger, "run", recorded_run)
    return runs
