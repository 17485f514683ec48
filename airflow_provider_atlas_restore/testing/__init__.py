"""A local MongoDB Atlas Admin API emulator for testing the provider and your own DAGs.

Standard library only at run time. See ``docs/testing.md``.
"""

from __future__ import annotations

from airflow_provider_atlas_restore.testing.clock import ManualClock, SystemClock
from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.errors import AtlasError
from airflow_provider_atlas_restore.testing.faults import ROUTE_NAMES, Fault
from airflow_provider_atlas_restore.testing.tarball import Tarball

__all__ = ["ROUTE_NAMES", "AtlasEmulator", "AtlasError", "Fault", "ManualClock", "SystemClock", "Tarball"]
