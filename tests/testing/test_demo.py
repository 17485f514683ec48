"""``make demo``: it tells what each task did, says where its throw-away Airflow home went, and removes it unless kept."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_as_a_user


def run_demo(tmp_path: Path, *arguments: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the demo as ``make demo`` does, its temporary folder under ``tmp_path``; return it and the folder."""
    finished = run_as_a_user(
        [
            *(sys.executable, "-m", "airflow_provider_atlas_restore.testing.demo"),
            *("--ready-after", "1", "--download-size", "200000", *arguments),
        ],
        REPO_ROOT,
        TMPDIR=str(tmp_path),
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    home = re.search(r"==> Airflow home (\S+)/airflow:", finished.stdout)
    assert home, finished.stdout
    workdir = Path(home.group(1))
    assert workdir.parent == tmp_path
    return finished, workdir


@pytest.mark.timeout(300)
def test_demo_tells_what_each_task_did_then_removes_its_airflow_home_and_snapshot(tmp_path: Path) -> None:
    finished, workdir = run_demo(tmp_path)

    tasks = re.findall(r"^  (\w+) +(\w+) +[\d.]+ s$", finished.stdout, re.MULTILINE)
    assert tasks == [("create_restore", "success"), ("download", "success"), ("report", "success")]
    job = re.search(r"^Restore job: +([0-9a-f]{24}) \(download\), ready$", finished.stdout, re.MULTILINE)
    assert job, finished.stdout
    assert re.search(r"^Waited for links: [\d.]+ s in create_restore ", finished.stdout, re.MULTILINE)
    assert f"restore-{job.group(1)}.tar.gz" in finished.stdout
    assert re.search(
        rf"Removed {re.escape(str(workdir))} \(the Airflow home and the snapshot\)", finished.stdout
    )
    assert not workdir.exists()


@pytest.mark.timeout(300)
def test_demo_with_keep_leaves_the_airflow_home_and_snapshot_and_says_where(tmp_path: Path) -> None:
    finished, workdir = run_demo(tmp_path, "--keep")

    assert f"Kept the Airflow home and the snapshot in {workdir}" in finished.stdout
    assert (workdir / "airflow" / "airflow.db").is_file()
    [snapshot] = (workdir / "snapshots").glob("*.tar.gz")
    assert snapshot.stat().st_size > 0


@pytest.mark.timeout(300)
def test_demo_export_runs_the_export_example_and_says_where_the_export_is(tmp_path: Path) -> None:
    finished, _workdir = run_demo(tmp_path, "--example", "export")

    tasks = re.findall(r"^  (\w+) +(\w+) +[\d.]+ s$", finished.stdout, re.MULTILINE)
    assert tasks == [(task, "success") for task in ("take_snapshot", "export", "report", "delete_snapshot")]
    assert re.search(r"^Export job: +[0-9a-f]{24}, Successful$", finished.stdout, re.MULTILINE)
    uri = re.search(
        r"^Export URI: +s3://atlas-demo-exports/exported_snapshots/\S+$", finished.stdout, re.MULTILINE
    )
    assert uri, finished.stdout
    assert re.search(r"^Snapshot deleted: yes$", finished.stdout, re.MULTILINE)


def test_flex_demo_restores_onto_a_flex_cluster_and_downloads_the_snapshot(tmp_path: Path) -> None:
    finished, workdir = run_demo(tmp_path, "--example", "flex")

    tasks = re.findall(r"^  (\w+) +(\w+) +[\d.]+ s$", finished.stdout, re.MULTILINE)
    assert tasks == [("restore_flex", "success"), ("download", "success"), ("report", "success")]
    snapshot = re.search(
        r"^Snapshot: +([0-9a-f]{24}) \(newest completed flex snapshot\)$", finished.stdout, re.MULTILINE
    )
    assert snapshot, finished.stdout
    assert re.search(
        r"^Restore job: +[0-9a-f]{24} \(RESTORE\) onto Flex1, finished$", finished.stdout, re.MULTILINE
    )
    assert f"snapshot-{snapshot.group(1)}.tgz" in finished.stdout
    assert not workdir.exists()
