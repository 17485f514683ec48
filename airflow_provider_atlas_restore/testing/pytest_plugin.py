"""Pytest plugin: the ``atlas_emulator`` and ``atlas_dag_runner`` fixtures.

Enable it with the ``pytest11`` entry point of this package or
``pytest_plugins = ["airflow_provider_atlas_restore.testing.pytest_plugin"]`` in a conftest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_atlas_restore.testing.clock import ManualClock
from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import seed_basic

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.dag_runs import DagRunResult

__all__ = ["DagRunner", "atlas_dag_runner", "atlas_emulator"]

#: ``atlas_dag_runner(folder, dag_id, run_conf=None)``: run a DAG, return its result.
DagRunner = Callable[..., "DagRunResult"]


@pytest.fixture
def atlas_emulator() -> Iterator[AtlasEmulator]:
    """A running emulator on a :class:`ManualClock`, seeded by :func:`seed_basic`.

    ``atlas_emulator.seed`` holds ``group_id``, ``cluster_name`` ("Cluster0") and three
    completed ``snapshots`` (newest first); the server stops after the test.
    """
    emu = AtlasEmulator(clock=ManualClock())
    with emu:
        seed_basic(emu)
        yield emu


@pytest.fixture
def atlas_dag_runner(atlas_emulator: AtlasEmulator, monkeypatch: pytest.MonkeyPatch) -> DagRunner:
    """Run whole DAGs against ``atlas_emulator``: ``atlas_dag_runner(folder, dag_id, run_conf)``.

    Points the ``mongodb_atlas_default`` connection at the emulator's seeded project (plain
    http, downloads included) and returns :func:`~.dag_runs.run_dag`, which migrates the
    metadata database of ``AIRFLOW_HOME`` on first use and returns a
    :class:`~.dag_runs.DagRunResult` (state, task states, XCom return values).
    """
    from airflow_provider_atlas_restore.testing.dag_runs import run_dag

    assert atlas_emulator.seed is not None
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))

    def run(folder: Path | str, dag_id: str, run_conf: dict[str, Any] | None = None) -> DagRunResult:
        return run_dag(folder, dag_id, run_conf)

    return run
