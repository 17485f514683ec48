"""
Download each new MongoDB Atlas snapshot of a cluster as soon as it is completed (Airflow 3).

The DAG is scheduled on an asset watched by an ``AssetWatcher`` whose trigger,
``AtlasSnapshotEventTrigger``, lists the cluster's snapshots every few minutes in the triggerer
and fires once per new completed snapshot (see ``docs/events.md``). Each run reads the snapshot
ids from its triggering events (usually one; several when snapshots landed between two
scheduler loops), starts a download restore of each and waits for it in the triggerer, then
downloads the files to object storage. The download emits the destination folder's asset, with
each file's URI, size and sha256 in its extra: ``atlas_snapshot_consumer.py`` is scheduled on it.

Settings, read when the file is parsed (the watcher's trigger is built from them and cannot
change per run): ``ATLAS_WATCHED_CLUSTER`` (default ``Cluster0``), ``ATLAS_SNAPSHOTS_URI`` (the
destination folder, default ``s3://atlas-snapshots/restores/``), ``ATLAS_SNAPSHOTS_CONN_ID``
(its connection, default ``aws_default``; empty for a local ``file://`` folder) and
``ATLAS_SNAPSHOT_POLL_INTERVAL`` (seconds between two looks, default 300).

Airflow 2.11 has no ``AssetWatcher``: there this file defines no DAG.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

try:  # Airflow 3
    from airflow.sdk import Asset, AssetWatcher
except ImportError:  # Airflow 2.11: no event-driven scheduling, so no watcher DAG
    AssetWatcher = None

CLUSTER = os.environ.get("ATLAS_WATCHED_CLUSTER", "Cluster0")
SNAPSHOTS_URI = os.environ.get("ATLAS_SNAPSHOTS_URI", "s3://atlas-snapshots/restores/")
SNAPSHOTS_CONN_ID = os.environ.get("ATLAS_SNAPSHOTS_CONN_ID", "aws_default") or None
POLL_INTERVAL = float(os.environ.get("ATLAS_SNAPSHOT_POLL_INTERVAL", "300"))

if AssetWatcher is not None:
    from airflow_provider_atlas_restore.triggers.snapshot_events import AtlasSnapshotEventTrigger

    NEW_SNAPSHOT = Asset(
        name=f"atlas_new_snapshot_{CLUSTER}",
        watchers=[
            AssetWatcher(
                name=f"atlas_snapshot_watcher_{CLUSTER}",
                trigger=AtlasSnapshotEventTrigger(cluster_name=CLUSTER, poll_interval=POLL_INTERVAL),
            )
        ],
    )

    with DAG(
        dag_id="atlas_snapshot_watcher",
        description="Each new completed Atlas snapshot -> download restore -> files in object storage",
        schedule=[NEW_SNAPSHOT],
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        tags=["mongodb-atlas", "example"],
    ) as dag:

        @task
        def new_snapshots(triggering_asset_events: Any = None) -> list[str]:
            """Return the id of each snapshot this run was triggered for, oldest first."""
            ids = [
                event.extra["payload"]["snapshot_id"]
                for events in (triggering_asset_events or {}).values()
                for event in events
            ]
            print(f"New snapshots of {CLUSTER}: {', '.join(ids)}")
            return ids

        # One download restore per new snapshot, waited for in the triggerer (create-and-wait).
        create_restore = AtlasCreateRestoreJobOperator.partial(
            task_id="create_restore",
            cluster_name=CLUSTER,
            delivery_type="download",
            wait_for_completion=True,
            deferrable=True,
            poll_interval=5,
            timeout=6 * 60 * 60,
        ).expand(snapshot_id=new_snapshots())

        # Emits the destination folder's asset, spelt as docs/lineage.md says (one trailing
        # slash), with each file's URI, bytes and sha256 in its extra. Named here because a
        # mapped task is built at run time: the scheduler learns the outlet from this line.
        AtlasDownloadSnapshotOperator.partial(
            task_id="download",
            destination=SNAPSHOTS_URI,
            destination_conn_id=SNAPSHOTS_CONN_ID,
            outlets=[Asset(SNAPSHOTS_URI.rstrip("/") + "/")],
        ).expand(restore_job=create_restore.output)
