"""
Report each snapshot that ``atlas_snapshot_watcher.py`` downloaded: file, bytes and sha256.

Scheduled on the destination folder's asset, written as ``docs/lineage.md`` says: the folder's
URI with one trailing slash (``Asset("s3://atlas-snapshots/restores/")``), the asset the
download operator emits. Each download's event carries what it wrote in its extra; this DAG
reads it from the run's triggering events and logs and returns every file. The folder comes
from ``ATLAS_SNAPSHOTS_URI``, as in the watcher DAG. On Airflow 2.11 the asset is a Dataset.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.sdk import DAG, Asset, task

SNAPSHOTS_URI = os.environ.get("ATLAS_SNAPSHOTS_URI", "s3://atlas-snapshots/restores/")
#: The folder's asset, spelt as the download operator spells it: one trailing slash.
SNAPSHOTS = Asset(SNAPSHOTS_URI.rstrip("/") + "/")

with DAG(
    dag_id="atlas_snapshot_consumer",
    description="Each landed Atlas snapshot (the download's asset event) -> its files and sha256 reported",
    schedule=[SNAPSHOTS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["mongodb-atlas", "example"],
) as dag:

    @task
    def report(**context: Any) -> list[dict[str, Any]]:
        """Log and return each file the triggering downloads wrote: URI, bytes, sha256, snapshot."""
        events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
        files = []
        for asset_events in events.values():
            for event in asset_events:
                extra = event.extra or {}
                for entry in extra.get("files", []):
                    files.append(
                        {
                            "uri": entry["uri"],
                            "bytes": entry["bytes"],
                            "sha256": entry["sha256"],
                            "snapshot_id": extra.get("snapshot_id"),
                            "cluster": extra.get("cluster"),
                        }
                    )
                    print(f"{entry['uri']}: {entry['bytes']} bytes, sha256 {entry['sha256']}")
        return files

    report()
