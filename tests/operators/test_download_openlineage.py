"""OpenLineage and hook lineage of a download run by Airflow; and nothing of OpenLineage imported without it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.operators.download_helpers import CONN_ID, SHARDED, ready_job, sensor_xcom
from tests.operators.lineage_helpers import run_with_openlineage

pytestmark = pytest.mark.usefixtures("airflow_database", "emulator_time", "connect")

DOWNLOAD_DAG = "test_atlas_lineage_download"


def run_download_with_openlineage(
    conf: dict[str, Any], destination: str, events_file: Path
) -> dict[str, Any]:
    """Run the lineage download DAG with OpenLineage's file transport writing to ``events_file``."""
    return run_with_openlineage(DOWNLOAD_DAG, conf, events_file, ATLAS_LINEAGE_DESTINATION=destination)


def iso(atlas_time: str) -> str:
    """Return an Atlas ``...Z`` timestamp as Python writes it (``+00:00``)."""
    return datetime.fromisoformat(atlas_time.replace("Z", "+00:00")).isoformat()


def events_of(events_file: Path, event_type: str) -> list[dict[str, Any]]:
    """Return the task's events of ``event_type``; several processes append, so lines may run together."""
    text, decoder, events, at = events_file.read_text(), json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        event, at = decoder.raw_decode(text, at)
        events.append(event)
    return [
        event
        for event in events
        if event["eventType"] == event_type and event["job"]["name"].endswith(".download")
    ]


def test_the_complete_event_has_the_cluster_in_and_each_final_file_out_and_no_temporary_name(
    emu, group_id, tmp_path
):
    job = ready_job(emu, group_id, cluster=SHARDED, size=200_000)
    folder = tmp_path / "restores"
    # By id: the run's conf (which OpenLineage reports) holds no link; the links are read fresh.
    conf = {"restore_job_id": job["id"], "cluster_name": SHARDED, "conn_id": CONN_ID}
    ran = run_download_with_openlineage(conf, str(folder), tmp_path / "events.jsonl")
    assert ran["task_states"] == {"download": "success"}
    [complete] = events_of(tmp_path / "events.jsonl", "COMPLETE")
    [source] = complete["inputs"]
    assert (source["namespace"], source["name"]) == (f"mongodb+atlas://{group_id}", SHARDED)
    assert source["facets"]["atlasSnapshot"]["snapshotId"] == job["snapshotId"]
    assert source["facets"]["atlasSnapshot"]["snapshotTime"] == iso(job["timestamp"])
    written = {result["path"]: result for result in ran["xcom"]["download"]}
    outputs = {output["name"]: output for output in complete["outputs"]}
    assert {output["namespace"] for output in complete["outputs"]} == {"file"}
    assert set(outputs) == set(written)
    assert len(outputs) >= 3  # one file per replica set
    for path, output in outputs.items():
        assert output["outputFacets"]["outputStatistics"]["size"] == written[path]["bytes"]
    job_facet = complete["run"]["facets"]["atlasJob"]
    assert (job_facet["jobKind"], job_facet["jobId"], job_facet["deliveryType"]) == (
        "restore_job",
        job["id"],
        "download",
    )
    everything = (tmp_path / "events.jsonl").read_text()
    assert ".part" not in everything  # no temporary file: they are hidden ``.<name>.<id>.part`` files
    assert "/." not in everything.replace("/.venv", "")
    assert ".atlas-write-check" not in everything
    assert not any(url in everything for url in job["deliveryUrl"])


def test_a_download_to_s3_names_the_bucket_and_key_as_openlineage_names_them(
    emu, group_id, tmp_path, s3_bucket, aws_connection
):
    job = ready_job(emu, group_id, size=200_000)
    conf = {"restore_job_id": job["id"], "cluster_name": "Cluster0", "conn_id": CONN_ID}
    conf["destination_conn_id"] = aws_connection
    ran = run_download_with_openlineage(conf, f"s3://{s3_bucket}/restores/", tmp_path / "events.jsonl")
    assert ran["task_states"] == {"download": "success"}
    [complete] = events_of(tmp_path / "events.jsonl", "COMPLETE")
    [output] = complete["outputs"]
    assert (output["namespace"], output["name"]) == (
        f"s3://{s3_bucket}",
        f"restores/restore-{job['id']}.tar.gz",
    )


def test_without_the_openlineage_provider_nothing_of_openlineage_is_imported_and_a_download_runs(
    emu, group_id, tmp_path
):
    # In a fresh interpreter the provider and openlineage-python are made absent (their modules
    # blocked, their distributions hidden from Airflow's provider and plugin discovery): building
    # the task and running a download must neither import them nor fail.
    job = ready_job(emu, group_id, size=100_000)
    code = textwrap.dedent(
        f"""
        import json, sys
        from importlib import metadata
        try:  # the backport, which some of Airflow's discovery uses
            import importlib_metadata
        except ImportError:
            importlib_metadata = metadata
        for name in ("openlineage", "airflow.providers.openlineage"):
            sys.modules[name] = None
        def hiding_openlineage(distributions):
            def without_openlineage(**arguments):
                for dist in distributions(**arguments):
                    if "openlineage" not in (dist.metadata["Name"] or "").lower():
                        yield dist
            return without_openlineage
        for module in (metadata, importlib_metadata):
            module.distributions = hiding_openlineage(module.distributions)
        from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
        operator = AtlasDownloadSnapshotOperator(
            task_id="download", destination={str(tmp_path / "files")!r}, atlas_conn_id={CONN_ID!r},
            restore_job={json.dumps(sensor_xcom(job, group_id))!r},
        )
        [written] = operator.execute(context={{}})
        loaded = sorted(m for m in sys.modules if m.startswith(("openlineage", "airflow.providers.openlineage"))
                        and sys.modules[m] is not None)
        print("RESULT " + json.dumps({{"loaded": loaded, "outlets": [o.uri for o in operator.outlets],
                                       "path": written["path"]}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["loaded"] == []
    assert Path(result["path"]).is_file()
    assert [uri.rstrip("/") for uri in result["outlets"]] == [(tmp_path / "files").as_uri()]
