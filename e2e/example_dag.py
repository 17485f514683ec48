"""The DAG under test: the example pipeline's file, id and task ids."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAG_FILE = REPO / "example_dags" / "atlas_snapshot_download.py"
DAG_ID = "atlas_snapshot_download"
CREATE_TASK = "create_restore"
SENSOR_TASK = "wait_for_download"
DOWNLOAD_TASK = "download"
TASK_IDS = (CREATE_TASK, SENSOR_TASK, DOWNLOAD_TASK, "report")
