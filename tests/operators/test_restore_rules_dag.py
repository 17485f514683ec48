"""Issue 16's rules in DAG runs by Airflow (dag.test): fallback skipped, no links in XCom, private links, window."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_atlas_restore.testing.dag_runs import stored_xcom

ENDPOINT = "vpce-0a1b2c3d4e5f60718"
DAG_FILE = """
from airflow.providers.common.compat.sdk import DAG
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

with DAG(dag_id="rules_download", schedule=None, params={"destination": "/tmp/unused", "endpoint": ""}):
    create = AtlasCreateRestoreJobOperator(
        task_id="create", cluster_name="Cluster0", snapshot_id="latest", wait_for_completion=False
    )
    wait = AtlasRestoreJobSensor(
        task_id="wait",
        cluster_name="Cluster0",
        restore_job_id="{{ ti.xcom_pull(task_ids='create')['id'] }}",
        deferrable=True,
    )
    download = AtlasDownloadSnapshotOperator(
        task_id="download",
        restore_job=wait.output,
        destination="{{ params.destination }}",
        private_endpoint_id="{{ params.endpoint }}",
        retries=0,
    )
    create >> wait >> download

with DAG(dag_id="rules_point_in_time", schedule=None, params={"moment": 0}):
    AtlasCreateRestoreJobOperator(
        task_id="create",
        cluster_name="Cluster0",
        delivery_type="pointInTime",
        target_cluster_name="Cluster0",
        target_group_id="{{ conn.mongodb_atlas_default.extra_dejson.group_id }}",
        point_in_time_utc_seconds="{{ params.moment }}",
        confirm_overwrite=True,
        wait_for_completion=False,
        retries=0,
    )
"""


def write_dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "rules.py").write_text(DAG_FILE)
    return folder


def test_pipeline_skips_a_fallback_keeps_links_out_of_xcom_and_downloads_privately(
    atlas_emulator, atlas_dag_runner, tmp_path
):
    seed = atlas_emulator.seed
    atlas_emulator.add_private_endpoint(seed.group_id, ENDPOINT)
    atlas_emulator.add_snapshot(
        seed.group_id, "Cluster0", created_at=atlas_emulator.clock.now() - 60, snapshot_type="fallback"
    )
    destination = tmp_path / "out"

    result = atlas_dag_runner(
        write_dags(tmp_path), "rules_download", {"destination": str(destination), "endpoint": ENDPOINT}
    )

    assert result.state == "success", result.task_states
    assert result.xcom["create"]["snapshotId"] == seed.snapshot_id  # not the newer fallback one
    waited = result.xcom["wait"]
    assert (waited["state"], waited["delivery_urls"]) == ("ready", ["***"])
    job_id = result.xcom["create"]["id"]
    links = [
        *atlas_emulator.download_urls(seed.group_id, "Cluster0", job_id),
        *atlas_emulator.private_download_urls(seed.group_id, "Cluster0", job_id),
    ]
    stored = repr([row.value for row in stored_xcom("rules_download", result.run_id)])
    assert len(links) == 2
    assert not [link for link in links if link.rsplit("/", 2)[-2] in stored]  # no link's token
    [written] = result.xcom["download"]
    assert Path(written["path"]).stat().st_size == written["bytes"]
    assert atlas_emulator.stats.count(route="private_download", status=200) == 1
    assert atlas_emulator.stats.count(route="download") == 0


def test_pipeline_downloads_through_public_links_without_an_endpoint(
    atlas_emulator, atlas_dag_runner, tmp_path
):
    result = atlas_dag_runner(write_dags(tmp_path), "rules_download", {"destination": str(tmp_path / "out")})

    assert result.state == "success", result.task_states
    assert result.xcom["wait"]["delivery_urls"] == ["***"]
    assert atlas_emulator.stats.count(route="download", status=200) == 1
    assert (
        atlas_emulator.stats.count(route="get_restore_job", status=200) >= 2
    )  # the sensor, then the download


def test_point_in_time_outside_the_window_fails_the_task_with_zero_posts(
    atlas_emulator, atlas_dag_runner, tmp_path
):
    moment = int(atlas_emulator.clock.now()) - 8 * 86_400  # the window is the default 7 days

    result = atlas_dag_runner(write_dags(tmp_path), "rules_point_in_time", {"moment": moment})

    assert result.task_states == {"create": "failed"}
    assert atlas_emulator.stats.count(route="get_backup_schedule", status=200) == 1
    assert atlas_emulator.stats.count(route="create_restore_job") == 0


def test_point_in_time_inside_the_window_creates_the_job(atlas_emulator, atlas_dag_runner, tmp_path):
    moment = int(atlas_emulator.clock.now()) - 86_400

    result = atlas_dag_runner(write_dags(tmp_path), "rules_point_in_time", {"moment": moment})

    assert result.state == "success", result.task_states
    assert result.xcom["create"]["pointInTimeUTCSeconds"] == moment
    assert atlas_emulator.stats.count(route="create_restore_job", status=200) == 1
