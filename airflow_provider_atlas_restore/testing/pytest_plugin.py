"""Pytest plugin: the ``atlas_emulator`` fixture.

Enable it with the ``pytest11`` entry point of this package or
``pytest_plugins = ["airflow_provider_atlas_restore.testing.pytest_plugin"]`` in a conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_atlas_restore.testing.clock import ManualClock
from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import seed_basic

__all__ = ["atlas_emulator"]


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
