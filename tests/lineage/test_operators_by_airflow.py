"""The export, create-restore and collection-restore operators' lineage, run by Airflow on the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from typing import Any

import pytest

from airflow_provider_atlas_restore.lineage.assets import asset_alias_class, asset_class
from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.asset_records import asset_events, parse_and_unpause, queued_dag_ids, store_dag_files
from tests.conftest import TEST_DAGS
from tests.operators.create_and_wait_helpers import prepare
from tests.operators.lineage_helpers import complete_events, datasets, run_with_openlineage

pytestmark = pytest.mark.usefixtures("airflow_database")

BUCKET, CLUSTER, TARGET = "exports-bucket", "Cluster0", "Target0"


@pytest.fixture
def export_bucket(atlas_emulator: Any) -> dict[str, Any]:
    """An AWS export bucket of the seeded project (exports finish at the first look)."""
    return atlas_emulator.add_export_bucket(atlas_emulator.seed.group_id, BUCKET)


@pytest.fixture
def export_asset(atlas_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The export's stable asset as a user writes it in the export DAG and in its consumers."""
    group_id = atlas_emulator.seed.group_id
    org_id = atlas_emulator.store.project(group_id).org_id
    uri = f"s3://{BUCKET}/exported_snapshots/{org_id}/{group_id}/{CLUSTER}/"
    monkeypatch.setenv("ATLAS_LINEAGE_EXPORT_ASSET", uri)
    return uri


def uris(entries: Any) -> list[str]:
    return [entry.asset.uri for entry in entries]


@pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="2.11's dag.test() cannot emit through an alias it never stored"
)
def test_an_export_declares_an_asset_alias_as_its_asset_holds_ids_known_at_run_time() -> None:
    by_name = AtlasExportSnapshotOperator(task_id="a", cluster_name=CLUSTER, bucket_name=BUCKET)
    by_id = AtlasExportSnapshotOperator(task_id="b", cluster_name=CLUSTER, export_bucket_id="0" * 24)
    given = AtlasExportSnapshotOperator(
        task_id="c", cluster_name=CLUSTER, bucket_name=BUCKET, outlets=[asset_class()("s3://b/p/")]
    )
    assert [(type(o), o.name) for o in by_name.outlets] == [
        (asset_alias_class(), f"atlas-export:{CLUSTER}:{BUCKET}")
    ]
    assert [o.name for o in by_id.outlets] == [f"atlas-export:{CLUSTER}:{'0' * 24}"]
    assert [type(o) for o in given.outlets] == [asset_class()]


@pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="2.11's dag.test() cannot emit through an alias it never stored"
)
def test_an_export_without_outlets_emits_its_stable_asset_through_its_alias_and_queues_the_consumer(
    atlas_emulator, atlas_dag_runner, export_bucket, export_asset
):
    parse_and_unpause(TEST_DAGS, "tests", "test_atlas_lineage_export_consumer")
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_lineage_export_alias")
    assert result.state == "success", result.task_states
    value = result.xcom["export"]
    [extra] = asset_events(export_asset, result.run_id)
    assert (extra["asset_uri"], extra["export_uri"], extra["export_job_id"]) == (
        export_asset,
        value["uri"],
        value["export_job_id"],
    )
    assert "test_atlas_lineage_export_consumer" in queued_dag_ids(export_asset)


@pytest.mark.skipif(AIRFLOW_V_3_0_PLUS, reason="Airflow 3 declares the alias")
def test_on_airflow_2_an_export_declares_no_outlet_of_its_own() -> None:
    task = AtlasExportSnapshotOperator(task_id="a", cluster_name=CLUSTER, bucket_name=BUCKET)
    assert list(task.outlets) == []


def test_a_successful_export_puts_its_uri_cluster_snapshot_and_job_on_the_users_outlet_event(
    atlas_emulator, atlas_dag_runner, export_bucket, export_asset, collector
):
    store_dag_files(TEST_DAGS, "tests")  # as the DAG processor does: Airflow knows the asset before the run
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_lineage_export")
    assert result.state == "success", result.task_states
    value = result.xcom["export"]
    [extra] = asset_events(export_asset, result.run_id)
    assert extra["export_uri"] == value["uri"] == f"s3://{BUCKET}/{value['prefix']}"
    assert extra["asset_uri"] == export_asset
    assert value["uri"].startswith(export_asset)
    assert (extra["cluster"], extra["group_id"], extra["snapshot_id"], extra["export_job_id"]) == (
        CLUSTER,
        atlas_emulator.seed.group_id,
        value["snapshot_id"],
        value["export_job_id"],
    )
    taken = value["prefix"].split("/")[4]  # the snapshot's time, to the minute
    assert datetime.fromisoformat(extra["snapshot_time"]).strftime("%Y-%m-%dT%H%M") == taken
    assert extra["cluster_uri"] == f"mongodb+atlas://{atlas_emulator.seed.group_id}/{CLUSTER}"
    collected = collector.collected_assets
    assert uris(collected.inputs) == [extra["cluster_uri"]]
    assert uris(collected.outputs) == [value["uri"]]


def test_openlineage_sees_the_cluster_in_and_the_exports_folder_out(
    atlas_emulator, atlas_dag_runner, export_bucket, export_asset, tmp_path
):
    events = tmp_path / "events.jsonl"
    ran = run_with_openlineage(
        "test_atlas_lineage_export", {}, events, ATLAS_LINEAGE_EXPORT_ASSET=export_asset
    )
    assert ran["task_states"] == {"export": "success"}
    value = ran["xcom"]["export"]
    [complete] = complete_events(events, "export")
    group_id = atlas_emulator.seed.group_id
    assert datasets(complete, "inputs") == [(f"mongodb+atlas://{group_id}", CLUSTER)]
    assert complete["inputs"][0]["facets"]["atlasSnapshot"]["snapshotId"] == value["snapshot_id"]
    assert datasets(complete, "outputs") == [(f"s3://{BUCKET}", value["prefix"])]
    job = complete["run"]["facets"]["atlasJob"]
    assert (job["jobKind"], job["jobId"]) == ("export_job", value["export_job_id"])


@pytest.mark.parametrize("delivery_type", ["automated", "pointInTime"])
def test_openlineage_sees_a_restore_into_a_cluster_as_source_cluster_in_target_cluster_out(
    atlas_emulator, atlas_dag_runner, tmp_path, delivery_type
):
    events = tmp_path / "events.jsonl"
    ran = run_with_openlineage(
        f"test_atlas_create_and_wait_{delivery_type}_poke", prepare(atlas_emulator, delivery_type), events
    )
    assert ran["task_states"] == {"create": "success"}
    [complete] = complete_events(events, "create")
    namespace = f"mongodb+atlas://{atlas_emulator.seed.group_id}"
    assert datasets(complete, "inputs") == [(namespace, CLUSTER)]
    assert datasets(complete, "outputs") == [(namespace, TARGET)]
    job = complete["run"]["facets"]["atlasJob"]
    assert (job["jobKind"], job["jobId"], job["deliveryType"]) == (
        "restore_job",
        ran["xcom"]["create"]["restore_job_id"],
        delivery_type,
    )


def test_a_download_restore_has_the_cluster_in_and_no_output(atlas_emulator, atlas_dag_runner, tmp_path):
    events = tmp_path / "events.jsonl"
    ran = run_with_openlineage("test_atlas_create_and_wait_download_poke", prepare(atlas_emulator), events)
    assert ran["task_states"] == {"create": "success"}
    [complete] = complete_events(events, "create")
    assert datasets(complete, "inputs") == [(f"mongodb+atlas://{atlas_emulator.seed.group_id}", CLUSTER)]
    assert complete["outputs"] == []
    assert complete["run"]["facets"]["atlasJob"]["deliveryType"] == "download"


def test_a_restore_into_a_cluster_is_reported_to_hook_lineage(atlas_emulator, atlas_dag_runner, collector):
    result = atlas_dag_runner(
        TEST_DAGS, "test_atlas_create_and_wait_automated_poke", prepare(atlas_emulator, "automated")
    )
    assert result.state == "success", result.task_states
    group_id = atlas_emulator.seed.group_id
    collected = collector.collected_assets
    assert uris(collected.inputs) == [f"mongodb+atlas://{group_id}/{CLUSTER}"]
    assert uris(collected.outputs) == [f"mongodb+atlas://{group_id}/{TARGET}"]


def test_openlineage_sees_each_restored_collection_under_its_target_name(
    atlas_emulator, atlas_dag_runner, collector, tmp_path
):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, TARGET)
    events = tmp_path / "events.jsonl"
    ran = run_with_openlineage("test_atlas_restore_collections_poke", {}, events)
    assert ran["task_states"] == {"restore": "success"}
    [complete] = complete_events(events, "restore")
    namespace = f"mongodb+atlas://{atlas_emulator.seed.group_id}"
    assert datasets(complete, "inputs") == [(namespace, CLUSTER)]
    # The DAG restores sales.orders as staging.orders, and sales.customers under its own name.
    assert datasets(complete, "outputs") == [
        (namespace, f"{TARGET}/staging.orders"),
        (namespace, f"{TARGET}/sales.customers"),
    ]
    job = complete["run"]["facets"]["atlasJob"]
    assert (job["jobKind"], job["jobId"]) == (
        "collection_restore_job",
        ran["xcom"]["restore"]["collection_restore_job_id"],
    )


def test_a_collection_restore_is_reported_to_hook_lineage_with_each_target_collection(
    atlas_emulator, atlas_dag_runner, collector
):
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, TARGET)
    result = atlas_dag_runner(TEST_DAGS, "test_atlas_restore_collections_poke")
    assert result.state == "success", result.task_states
    group_id = atlas_emulator.seed.group_id
    collected = collector.collected_assets
    assert uris(collected.inputs) == [f"mongodb+atlas://{group_id}/{CLUSTER}"]
    assert uris(collected.outputs) == [f"mongodb+atlas://{group_id}/{TARGET}"]


def test_the_three_operators_import_nothing_of_openlineage_when_a_dag_builds_them() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        from airflow.providers.common.compat.sdk import BaseOperator
        BaseOperator(task_id="plain")  # what Airflow itself loads (its provider discovery)
        before = {m for m in sys.modules if "openlineage" in m}
        from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator
        from airflow_provider_atlas_restore.operators.restore_collections import AtlasRestoreCollectionsOperator
        from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
        AtlasExportSnapshotOperator(task_id="e", cluster_name="Cluster0", bucket_name="b")
        AtlasCreateRestoreJobOperator(task_id="c", cluster_name="Cluster0")
        AtlasRestoreCollectionsOperator(
            task_id="r", cluster_name="Cluster0", target_cluster_name="T", snapshot_id="latest", collections=["a.b"]
        )
        print("RESULT " + json.dumps(sorted(m for m in sys.modules if "openlineage" in m and m not in before)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert json.loads(line.removeprefix("RESULT ")) == []
