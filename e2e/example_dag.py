"""The DAG under test: the example pipeline's file, id and task ids."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAG_FILE = REPO / "example_dags" / "atlas_snapshot_download.py"
DAG_ID = "atlas_snapshot_download"
#: Starts the restore and waits for its links, deferred (create-and-wait): the task the tests defer.
CREATE_TASK = "create_restore"
DOWNLOAD_TASK = "download"
REPORT_TASK = "report"
TASK_IDS = (CREATE_TASK, DOWNLOAD_TASK, REPORT_TASK)

#: The snapshot watcher pair (Airflow 3): the watcher DAG downloads each new snapshot, the consumer reports it.
WATCHER_DAG_FILE = REPO / "example_dags" / "atlas_snapshot_watcher.py"
CONSUMER_DAG_FILE = REPO / "example_dags" / "atlas_snapshot_consumer.py"
WATCHER_DAG_ID = "atlas_snapshot_watcher"
CONSUMER_DAG_ID = "atlas_snapshot_consumer"
#: Seconds between two looks of the watcher's trigger at the cluster's snapshots, in the e2e run.
WATCHER_POLL_INTERVAL = 2
