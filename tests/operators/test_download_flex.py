"""AtlasDownloadSnapshotOperator on a flex cluster, run by Airflow (dag.test) against the emulator over loopback."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_atlas_restore.exceptions import AtlasSnapshotNotFoundError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import DagRunResult, run_dag
from tests.conftest import TEST_DAGS
from tests.download_fixtures import served_sha256
from tests.operators.download_helpers import CLUSTER, CONN_ID, ready_job, run

FLEX = "Flex0"
FLEX_DAG = "test_atlas_download_flex_snapshot"
BOTH_DAG = "test_atlas_download_flex_and_dedicated"
#: The requests with which the provider may tell a flex cluster from a dedicated one.
DETECTION_ROUTES = ("get_flex_cluster", "get_cluster")


@pytest.fixture
def flex_cluster(emu: AtlasEmulator, group_id: str) -> str:
    """A flex cluster beside the dedicated ones of ``group_id``."""
    emu.add_flex_cluster(group_id, FLEX)
    return FLEX


def run_flex_dag(destination: Path | str, snapshot_id: str, **params: Any) -> DagRunResult:
    """Run the flex download DAG through Airflow; return what it left."""
    return run_dag(
        TEST_DAGS,
        FLEX_DAG,
        {"snapshot_id": snapshot_id, "destination": str(destination), "conn_id": CONN_ID, **params},
    )


def served(emu: AtlasEmulator, group_id: str, snapshot_id: str) -> tuple[int, str]:
    """Return the length and sha256 of the archive the emulator serves for a flex snapshot."""
    hook = AtlasHook(atlas_conn_id=CONN_ID)
    try:
        url = hook.download_flex_snapshot(FLEX, snapshot_id, group_id)["snapshotUrl"]
    finally:
        hook.close()
    return served_sha256(url)


def answered(emu: AtlasEmulator, route: str) -> int:
    """Return the requests of ``route`` the emulator answered, Digest challenges (401) left out."""
    return emu.stats.count(route=route) - emu.stats.count(route=route, status=401)


def detections(emu: AtlasEmulator) -> int:
    return sum(answered(emu, route) for route in DETECTION_ROUTES)


def test_a_flex_snapshot_lands_whole_in_a_local_folder(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path
):
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=300_000)
    result = run_flex_dag(tmp_path / "files", snapshot["id"])
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    path = tmp_path / "files" / f"snapshot-{snapshot['id']}.tgz"
    assert written == {
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "replica_set": None,
        "kept": False,
        "snapshot_id": snapshot["id"],
    }
    assert os.listdir(tmp_path / "files") == [path.name]  # no part file left beside it
    with tarfile.open(path, "r:gz") as archive:
        assert archive.getnames()
    assert emu.stats.count(route="download_flex_snapshot", status=200) == 1
    assert emu.stats.count(route="flex_snapshot_file") == 1
    assert detections(emu) == 1  # cluster_type="auto": the kind is asked once
    assert (written["bytes"], written["sha256"]) == served(emu, group_id, snapshot["id"])


def test_latest_downloads_the_newest_completed_flex_snapshot_whatever_the_list_order(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path
):
    day = 86_400.0
    now = emu.clock.now()
    older = emu.add_flex_snapshot(group_id, flex_cluster, created_at=now - 3 * day)
    newest = emu.add_flex_snapshot(group_id, flex_cluster, created_at=now - day)
    emu.add_flex_snapshot(group_id, flex_cluster, created_at=now - 2 * day)
    emu.add_flex_snapshot(group_id, flex_cluster, status="RUNNING", created_at=now)
    result = run_flex_dag(tmp_path, "latest")
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    assert written["snapshot_id"] == newest["id"] != older["id"]
    assert Path(written["path"]).name == f"snapshot-{newest['id']}.tgz"


def test_a_connection_cut_mid_file_resumes_with_range_to_the_same_bytes(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path
):
    size = 400_000
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=size)
    emu.faults.add(route="flex_snapshot_file", kind="cut", after_bytes=size // 2, count=1)
    result = run_flex_dag(tmp_path, snapshot["id"])
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    assert emu.stats.count(route="flex_snapshot_file") == 2  # the cut request and one resume
    assert answered(emu, "download_flex_snapshot") == 1  # the link was still good
    assert (written["bytes"], written["sha256"]) == served(emu, group_id, snapshot["id"])


def test_a_link_refused_mid_file_is_asked_for_again_and_the_download_resumes(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path, log_text
):
    size = 400_000
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=size)
    emu.faults.add(route="flex_snapshot_file", kind="cut", after_bytes=size // 2, count=1)
    emu.faults.add(route="flex_snapshot_file", kind="status", status=410, skip=1, count=1)
    result = run_flex_dag(tmp_path, snapshot["id"])
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    assert answered(emu, "download_flex_snapshot") == 2  # a fresh snapshotUrl for the resume
    assert emu.stats.count(route="flex_snapshot_file") == 3  # cut, refused, resumed
    assert (written["bytes"], written["sha256"]) == served(emu, group_id, snapshot["id"])
    assert "asked Atlas for a fresh one, resuming from byte" in log_text()


def test_a_corrupt_body_is_refused_and_nothing_is_left_behind(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path, log_text
):
    size = 300_000
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=size)
    emu.faults.add(route="flex_snapshot_file", kind="corrupt", after_bytes=size // 2, count=None)
    result = run_flex_dag(tmp_path / "files", snapshot["id"])
    assert result.task_states == {"download_flex": "failed"}
    assert "download_flex" not in result.xcom
    assert os.listdir(tmp_path / "files") == []  # no file, no part file
    assert "CorruptDownloadError" in log_text()


def test_a_flex_and_a_dedicated_download_in_one_dag_each_find_their_family(
    airflow_database, emu, group_id, connect, flex_cluster, tmp_path
):
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=200_000)
    job = ready_job(emu, group_id, size=200_000)
    result = run_dag(
        TEST_DAGS,
        BOTH_DAG,
        {
            "snapshot_id": snapshot["id"],
            "restore_job_id": job["id"],
            "dedicated_cluster": CLUSTER,
            "destination": str(tmp_path),
            "conn_id": CONN_ID,
        },
    )
    assert result.task_states == {"download_flex": "success", "download_dedicated": "success"}
    [flex] = result.xcom["download_flex"]
    [dedicated] = result.xcom["download_dedicated"]
    assert flex["path"] == str(tmp_path / "flex" / f"snapshot-{snapshot['id']}.tgz")
    assert dedicated["path"] == str(tmp_path / "dedicated" / f"restore-{job['id']}.tar.gz")
    assert dedicated["snapshot_id"] == job["snapshotId"]
    assert set(flex) == set(dedicated)  # one XCom shape for both families
    # The flex task asked the kind once; the restore job id already says "dedicated".
    assert detections(emu) == 1
    assert answered(emu, "download_flex_snapshot") == 1
    assert emu.stats.count(route="flex_snapshot_file") == 1
    assert answered(emu, "get_restore_job") == 1
    assert emu.stats.count(route="download") == 1


def test_a_flex_snapshot_of_a_dedicated_cluster_fails_before_any_download(
    airflow_database, emu, group_id, connect, tmp_path, log_text
):
    snapshot = emu.add_snapshot(group_id, CLUSTER)
    result = run_flex_dag(tmp_path / "files", snapshot["id"], flex_cluster=CLUSTER)
    assert result.task_states == {"download_flex": "failed"}
    assert "is a dedicated cluster" in log_text()
    assert answered(emu, "download_flex_snapshot") == 0
    assert os.listdir(tmp_path / "files") == []


def test_a_snapshot_url_that_expires_while_the_task_waits_to_resume_is_asked_for_again(
    emu, group_id, connect, flex_cluster, tmp_path
):
    size = 400_000
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=size)
    emu.faults.add(route="flex_snapshot_file", kind="cut", after_bytes=size // 2, count=1)
    operator = AtlasDownloadSnapshotOperator(
        task_id="download",
        destination=str(tmp_path),
        snapshot_id=snapshot["id"],
        cluster_name=flex_cluster,
        cluster_type="flex",
        atlas_conn_id=CONN_ID,
    )
    # The wait before the resume outlasts the link's four hours on the emulator clock.
    operator.sleep = lambda seconds: emu.clock.advance(4 * 3600 + 1)
    [written] = operator.execute(context={})  # type: ignore[arg-type]
    assert emu.stats.count(route="flex_snapshot_file", status=410) == 1  # the expired link
    assert answered(emu, "download_flex_snapshot") == 2
    assert detections(emu) == 0  # cluster_type="flex": no request to tell the kind
    assert (written["bytes"], written["sha256"]) == served(emu, group_id, snapshot["id"])


def test_a_restore_job_id_on_a_flex_cluster_fails_saying_to_give_snapshot_id(
    emu, group_id, connect, flex_cluster, tmp_path
):
    job = emu.add_flex_restore_job(group_id, flex_cluster)
    with pytest.raises(AirflowFailException, match=r"is a flex cluster.*snapshot_id"):
        run(tmp_path, restore_job_id=job["id"], cluster_name=flex_cluster)
    assert os.listdir(tmp_path) == []


def test_cluster_type_flex_on_a_dedicated_cluster_fails_with_what_to_give_instead(
    emu, group_id, connect, tmp_path
):
    snapshot = emu.add_snapshot(group_id, CLUSTER)
    with pytest.raises(AirflowFailException, match=r"not a flex cluster.*restore_job_id"):
        run(tmp_path, snapshot_id=snapshot["id"], cluster_name=CLUSTER, cluster_type="flex")
    assert emu.stats.count(route="flex_snapshot_file") == 0
    assert os.listdir(tmp_path) == []


def test_latest_with_no_completed_flex_snapshot_fails_before_any_download(
    emu, group_id, connect, flex_cluster, tmp_path
):
    emu.add_flex_snapshot(group_id, flex_cluster, status="RUNNING")
    with pytest.raises(AtlasSnapshotNotFoundError):
        run(tmp_path, snapshot_id="latest", cluster_name=flex_cluster)
    assert answered(emu, "download_flex_snapshot") == 0
    assert os.listdir(tmp_path) == []


def test_skip_if_same_keeps_a_flex_snapshot_already_downloaded(
    emu, group_id, connect, flex_cluster, tmp_path
):
    snapshot = emu.add_flex_snapshot(group_id, flex_cluster, size_bytes=100_000)
    [first] = run(tmp_path, snapshot_id=snapshot["id"], cluster_name=flex_cluster)
    [again] = run(tmp_path, snapshot_id=snapshot["id"], cluster_name=flex_cluster, if_exists="skip_if_same")
    assert again == {**first, "kept": True}
    assert emu.stats.count(route="flex_snapshot_file") == 1
