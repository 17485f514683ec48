"""Fixtures of the lineage tests: an Atlas source, the files a run wrote, a hook lineage collector of their own."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_atlas_restore.lineage.facts import AtlasSource, LandedFile
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

GROUP = "6a793f6b2c88faeba59bae37"
SNAPSHOT = "6a79468a2c88faeba59de489"
JOB = "6a7948342c88faeba59eb866"
TAKEN = datetime(2026, 8, 10, 3, 35, 5, tzinfo=timezone.utc)


@pytest.fixture
def download_source() -> AtlasSource:
    return AtlasSource(
        group_id=GROUP,
        cluster_name="Cluster0",
        snapshot_id=SNAPSHOT,
        snapshot_time=TAKEN,
        job_id=JOB,
        delivery_type="download",
    )


@pytest.fixture
def landed() -> list[LandedFile]:
    return [
        LandedFile.from_result(
            {
                "path": "s3://bucket/restores/restore-a-shard-0.tar.gz",
                "bytes": 10,
                "sha256": "a" * 64,
                "replica_set": "shard-0",
                "kept": False,
            }
        ),
        LandedFile.from_result(
            {
                "path": "s3://bucket/restores/restore-a-shard-1.tar.gz",
                "bytes": 20,
                "sha256": "b" * 64,
                "replica_set": "shard-1",
                "kept": True,
            }
        ),
    ]


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real hook lineage collector of this test's own, behind the compat layer the provider calls."""
    from airflow.providers.common.compat import sdk as compat_sdk

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.lineage import HookLineageCollector
    else:
        from airflow.lineage.hook import HookLineageCollector
    fresh = HookLineageCollector()
    monkeypatch.setattr(compat_sdk, "get_hook_lineage_collector", lambda: fresh, raising=False)
    from airflow.providers.common.compat.lineage.hook import get_hook_lineage_collector

    return get_hook_lineage_collector()
