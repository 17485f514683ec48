"""A take-snapshot task's output as ``snapshot_id``: the create operator and the flex download, run by Airflow."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import run_dag
from tests.conftest import TEST_DAGS
from tests.operators.download_helpers import CLUSTER, CONN_ID

FLEX = "Flex0"


def test_the_mapping_a_take_snapshot_task_returns_is_restored_and_downloaded(
    airflow_database, emu: AtlasEmulator, group_id: str, connect, tmp_path: Path
):
    emu.add_flex_cluster(group_id, FLEX)
    now = emu.clock.now()
    dedicated = emu.add_snapshot(group_id, CLUSTER, created_at=now - 120)["id"]
    emu.add_snapshot(group_id, CLUSTER, created_at=now - 60)  # "latest" would restore this one
    flex = emu.add_flex_snapshot(group_id, FLEX, created_at=now - 120)["id"]
    emu.add_flex_snapshot(group_id, FLEX, created_at=now - 60)

    result = run_dag(
        TEST_DAGS,
        "test_atlas_snapshot_from_task",
        {
            "dedicated_snapshot": dedicated,
            "flex_snapshot": flex,
            "destination": str(tmp_path / "files"),
            "conn_id": CONN_ID,
        },
    )

    assert result.state == "success", result.task_states
    assert result.xcom["take_dedicated"]["snapshot_id"] == dedicated
    assert result.xcom["create"]["snapshotId"] == dedicated
    [written] = result.xcom["download_flex"]
    assert written["snapshot_id"] == flex
    assert Path(written["path"]).is_file()


def test_a_mapping_without_a_snapshot_id_fails_the_task_saying_so_before_any_request(
    airflow_database, emu: AtlasEmulator, group_id: str, connect, log_text
):
    before = emu.stats.count()

    result = run_dag(
        TEST_DAGS, "test_atlas_snapshot_from_task_without_id", {"dedicated_snapshot": "", "conn_id": CONN_ID}
    )

    assert result.task_states == {"take": "success", "create": "failed"}
    assert "snapshot_id['snapshot_id']=None is not a valid Atlas snapshot id" in log_text()
    assert emu.stats.count() == before
