"""Hook lineage: the cluster in, each final file (or the restored cluster) out, through Airflow's collector."""

from __future__ import annotations

from airflow_provider_atlas_restore.lineage.facts import AtlasSource
from airflow_provider_atlas_restore.lineage.hook_lineage import report_cluster_restore, report_files
from tests.lineage.conftest import GROUP


class FakeHookContext:
    """Stands for the hook that did the work (the collector keys entries by it)."""


def uris(entries):
    return [entry.asset.uri for entry in entries]


def test_a_download_reports_the_cluster_in_and_each_final_file_out(collector, download_source, landed):
    context = FakeHookContext()

    assert report_files(context, download_source, landed) == 2

    collected = collector.collected_assets
    assert uris(collected.inputs) == [f"mongodb+atlas://{GROUP}/Cluster0"]
    assert uris(collected.outputs) == [landed[0].uri, landed[1].uri]
    assert collected.outputs[0].asset.extra == {"sha256": "a" * 64, "bytes": 10}
    assert all(entry.context is context for entry in collected.inputs + collected.outputs)


def test_a_local_file_is_reported_by_its_file_uri(collector, download_source):
    from airflow_provider_atlas_restore.lineage.facts import LandedFile

    local = LandedFile.from_result(
        {"path": "/data/restores/restore-a.tar.gz", "bytes": 1, "sha256": "c" * 64}
    )
    report_files(FakeHookContext(), download_source, [local])

    assert uris(collector.collected_assets.outputs) == ["file:///data/restores/restore-a.tar.gz"]


def test_a_restore_into_a_cluster_reports_the_target_cluster_out(collector):
    source = AtlasSource(
        group_id=GROUP,
        cluster_name="Cluster0",
        job_id="j" * 24,
        target_cluster_name="Cluster1",
        target_group_id="b" * 24,
    )

    assert report_cluster_restore(FakeHookContext(), source) is True

    collected = collector.collected_assets
    assert uris(collected.inputs) == [f"mongodb+atlas://{GROUP}/Cluster0"]
    assert uris(collected.outputs) == [f"mongodb+atlas://{'b' * 24}/Cluster1"]


def test_a_download_restore_job_has_no_target_cluster_to_report(collector, download_source):
    assert report_cluster_restore(FakeHookContext(), download_source) is False
    assert collector.collected_assets.outputs == []
