"""On Airflow 2.11 the snapshot event trigger's module imports, and building the trigger says why it cannot run."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.triggers.snapshot_events import (
    HAS_EVENT_TRIGGERS,
    AtlasSnapshotEventTrigger,
)


@pytest.mark.skipif(HAS_EVENT_TRIGGERS, reason="Airflow 3 has event triggers")
def test_building_the_trigger_on_airflow_2_says_it_needs_airflow_3():
    with pytest.raises(AtlasInputError, match="needs Airflow 3"):
        AtlasSnapshotEventTrigger(cluster_name="Cluster0")
