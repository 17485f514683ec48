"""AtlasDownloadSnapshotOperator with private_endpoint_id: private links chosen, or a clear failure (emulator)."""

from __future__ import annotations

import json
import os

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.masking import redact_result_links
from tests.download_fixtures import served_sha256
from tests.operators.download_helpers import CLUSTER, CONN_ID, SHARDED, ready_job, run, sensor_xcom

pytestmark = pytest.mark.usefixtures("emulator_time")

ENDPOINT = "vpce-0123456789abcdef0"
OTHER_ENDPOINT = "vpce-fedcba98765432100"


@pytest.mark.parametrize("cluster", [CLUSTER, SHARDED])
def test_private_endpoint_downloads_every_file_through_its_private_links(
    emu, group_id, connect, tmp_path, cluster
):
    emu.add_private_endpoint(group_id, OTHER_ENDPOINT)
    emu.add_private_endpoint(group_id, ENDPOINT)
    job = ready_job(emu, group_id, cluster, size=50_000)
    files = 3 if cluster == SHARDED else 1

    results = run(
        tmp_path,
        restore_job=redact_result_links(sensor_xcom(job, group_id, cluster)),
        private_endpoint_id=ENDPOINT,
    )

    assert len(results) == files == len(os.listdir(tmp_path))
    assert emu.stats.count(route="get_restore_job", status=200) == 1  # links resolved by job id
    assert emu.stats.count(route="private_download", status=200) == files
    assert emu.stats.count(route="download") == 0  # no public link was touched
    emu.single_use_links = False
    for result, link in zip(
        results, emu.private_download_urls(group_id, cluster, job["id"], ENDPOINT), strict=True
    ):
        assert f"/backup/private/{ENDPOINT}/" in link
        assert (result["bytes"], result["sha256"]) == served_sha256(link)


def test_private_endpoint_from_the_connection_extra_is_used(emu, group_id, tmp_path, monkeypatch):
    emu.add_private_endpoint(group_id, ENDPOINT)
    connection = emu.connection(group_id=group_id)
    connection["extra"].update(allow_http_downloads=True, private_endpoint_id=ENDPOINT)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    job = ready_job(emu, group_id)

    [result] = run(tmp_path, restore_job_id=job["id"], cluster_name=CLUSTER)

    assert emu.stats.count(route="private_download", status=200) == 1
    assert emu.stats.count(route="download") == 0
    assert result["path"].endswith(f"restore-{job['id']}.tar.gz")


def test_a_sensor_xcom_with_public_links_still_downloads_through_the_private_endpoint(
    emu, group_id, connect, tmp_path
):
    emu.add_private_endpoint(group_id, ENDPOINT)
    job = ready_job(emu, group_id)

    run(tmp_path, restore_job=sensor_xcom(job, group_id), private_endpoint_id=ENDPOINT)

    assert emu.stats.count(route="private_download", status=200) == 1
    assert emu.stats.count(route="download") == 0


@pytest.mark.parametrize("cluster", [CLUSTER, SHARDED])
def test_a_job_without_a_link_for_the_endpoint_fails_before_any_byte(
    emu, group_id, connect, tmp_path, cluster
):
    emu.add_private_endpoint(group_id, OTHER_ENDPOINT)
    job = ready_job(emu, group_id, cluster)

    with pytest.raises(AtlasInputError) as refused:
        run(tmp_path, restore_job_id=job["id"], cluster_name=cluster, private_endpoint_id=ENDPOINT)

    message = str(refused.value)
    assert (
        f"Restore job {job['id']} of cluster {cluster} has no private download link for endpoint {ENDPOINT}"
        in message
    )
    assert f"its private links are for {OTHER_ENDPOINT}" in message
    assert ("component atlas-" in message) is (cluster == SHARDED)
    assert "/backup/" not in message  # no link is shown
    assert emu.stats.count(route="private_download") == emu.stats.count(route="download") == 0
    assert os.listdir(tmp_path) == []


def test_a_job_with_no_private_links_at_all_says_so(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)

    with pytest.raises(AtlasInputError, match="it has no private links"):
        run(tmp_path, restore_job_id=job["id"], cluster_name=CLUSTER, private_endpoint_id=ENDPOINT)
    assert emu.stats.count(route="download") == 0


@pytest.mark.parametrize("where", ["parameter", "extra"])
def test_a_malformed_endpoint_id_is_refused_before_any_request(emu, group_id, tmp_path, monkeypatch, where):
    connection = emu.connection(group_id=group_id)
    connection["extra"]["allow_http_downloads"] = True
    if where == "extra":
        connection["extra"]["private_endpoint_id"] = "endpoint-1"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    arguments = {"private_endpoint_id": "endpoint-1"} if where == "parameter" else {}

    with pytest.raises(AtlasInputError, match="'endpoint-1' is not a private endpoint id"):
        run(tmp_path, restore_job_id="a" * 24, cluster_name=CLUSTER, **arguments)
    assert emu.stats.count() == 0
