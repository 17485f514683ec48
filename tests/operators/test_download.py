"""AtlasDownloadSnapshotOperator against the Atlas emulator over loopback."""

from __future__ import annotations

import json
import os
import tarfile
import traceback
import uuid
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, redact

from airflow_provider_atlas_restore.download.downloader import (
    AtlasDestinationError,
    AtlasDownloadError,
    InsecureDownloadLinkError,
)
from airflow_provider_atlas_restore.exceptions import AtlasDestinationUnusableError, AtlasInputError
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from tests.download_fixtures import served_sha256
from tests.operators.download_helpers import CLUSTER, SHARDED, ready_job, run, sensor_xcom

pytestmark = pytest.mark.usefixtures("emulator_time")


def test_sensor_xcom_downloads_the_replica_set_archive(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    [result] = run(tmp_path, restore_job=sensor_xcom(job, group_id))
    assert result["path"] == str(tmp_path / f"restore-{job['id']}.tar.gz")
    assert result["replica_set"] is None
    emu.single_use_links = False
    assert (result["bytes"], result["sha256"]) == served_sha256(job["deliveryUrl"][0])
    with tarfile.open(result["path"], "r:gz") as archive:
        assert archive.getnames()
    assert emu.stats.count(route="get_restore_job") == 0


def test_sensor_xcom_as_json_text_is_accepted(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    [result] = run(tmp_path, restore_job=json.dumps(sensor_xcom(job, group_id)))
    assert Path(result["path"]).stat().st_size == result["bytes"]


def test_sensor_xcom_rendered_as_python_text_is_accepted(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    [result] = run(tmp_path, restore_job=str(sensor_xcom(job, group_id)))
    assert Path(result["path"]).stat().st_size == result["bytes"]


def test_xcom_value_is_json_with_no_link(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    results = run(tmp_path, restore_job=sensor_xcom(job, group_id))
    assert set(results[0]) == {"path", "bytes", "sha256", "replica_set", "kept", "snapshot_id"}
    text = json.dumps(results)
    assert "/backup/download/" not in text
    assert emu.base_url not in text


def test_sharded_download_writes_one_file_per_replica_set(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id, SHARDED, size=100_000)
    names = [component["replicaSetName"] for component in job["components"]]
    results = run(tmp_path, restore_job=sensor_xcom(job, group_id, SHARDED))
    assert [result["replica_set"] for result in results] == names
    assert sorted(os.listdir(tmp_path)) == sorted(f"restore-{job['id']}-{name}.tar.gz" for name in names)
    emu.single_use_links = False
    for result, component in zip(results, job["components"], strict=True):
        assert (result["bytes"], result["sha256"]) == served_sha256(component["downloadUrl"])


def test_job_id_input_resolves_fresh_links_through_the_api(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    [result] = run(tmp_path, restore_job_id=job["id"], cluster_name=CLUSTER)
    assert emu.stats.count(route="get_restore_job", status=200) == 1
    assert emu.stats.count(route="download", status=200) == 1
    assert result["path"].endswith(f"restore-{job['id']}.tar.gz")


def test_expired_xcom_links_are_resolved_fresh_through_the_api(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    stale = sensor_xcom(job, group_id) | {"expires_at": "2026-08-10T03:00:00+00:00"}
    [result] = run(tmp_path, restore_job=stale)
    assert emu.stats.count(route="get_restore_job", status=200) == 1
    assert Path(result["path"]).is_file()


def test_expired_xcom_without_job_ids_fails_clearly(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    stale = sensor_xcom(job, group_id) | {"expires_at": "2026-08-10T03:00:00+00:00"}
    del stale["restore_job_id"], stale["cluster_name"]
    with pytest.raises(AirflowFailException, match=r"links expired.*names no restore_job_id"):
        run(tmp_path, restore_job=stale)
    assert emu.stats.count() == 0


def test_pending_job_fails_saying_it_is_pending(emu, group_id, connect, tmp_path):
    snapshot = emu.add_snapshot(group_id, CLUSTER)
    job = emu.add_restore_job(group_id, CLUSTER, snapshot_id=snapshot["id"], ready_after=600.0)
    with pytest.raises(AtlasDownloadError, match="still pending") as raised:
        run(tmp_path, restore_job_id=job["id"], cluster_name=CLUSTER)
    assert not isinstance(raised.value, AirflowFailException)  # a later retry may find it ready


@pytest.mark.parametrize("end", ["fail_job", "cancel_job", "expire_job"])
def test_job_that_ended_without_links_fails_without_retry(emu, group_id, connect, tmp_path, end):
    job = ready_job(emu, group_id)
    getattr(emu, end)(group_id, CLUSTER, job["id"])
    with pytest.raises(AirflowFailException, match="nothing to download"):
        run(tmp_path, restore_job_id=job["id"], cluster_name=CLUSTER)
    assert emu.stats.count(route="download") == 0


def test_unwritable_destination_is_refused_before_any_request(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(AtlasDestinationError, match=f"{blocker}/restores"):
        run(blocker / "restores", restore_job_id=job["id"], cluster_name=CLUSTER)
    assert emu.stats.count() == 0
    assert os.listdir(tmp_path) == ["a-file"]


def test_http_links_are_refused_unless_allowed(emu, group_id, connect, tmp_path):
    connect(allow_http_downloads=False)
    job = ready_job(emu, group_id)
    with pytest.raises(InsecureDownloadLinkError, match=r"plain http.*allow_http=True"):
        run(tmp_path, restore_job=sensor_xcom(job, group_id))
    assert emu.stats.count(route="download") == 0
    assert os.listdir(tmp_path) == []


def test_operator_allow_http_accepts_http_links(emu, group_id, connect, tmp_path):
    connect(allow_http_downloads=False)
    job = ready_job(emu, group_id)
    assert run(tmp_path, restore_job=sensor_xcom(job, group_id), allow_http=True)[0]["bytes"]


def test_connection_extra_accepts_http_links(emu, group_id, connect, tmp_path):
    connect(allow_http_downloads=True)
    job = ready_job(emu, group_id)
    assert run(tmp_path, restore_job=sensor_xcom(job, group_id))[0]["bytes"]


def test_links_never_appear_in_errors_or_logs(emu, group_id, connect, tmp_path, log_text):
    job = ready_job(emu, group_id)
    token = job["deliveryUrl"][0].split("/backup/download/")[1].split("/")[0]
    emu.faults.add(route="download", kind="cut", after_bytes=50_000, count=1)
    run(tmp_path / "first", restore_job=sensor_xcom(job, group_id), progress_interval=0)
    with pytest.raises(AtlasDownloadError) as raised:  # the single-use link is now spent: 410
        run(tmp_path / "second", restore_job=sensor_xcom(job, group_id))
    error_text = "".join(traceback.format_exception(raised.value))
    assert "410" in error_text
    assert token not in error_text
    assert emu.base_url not in error_text
    logs = log_text()
    assert "interrupted" in logs
    assert "Downloading restore-" in logs
    assert all(token not in redact(line) for line in logs.splitlines())


def test_rendered_restore_job_links_are_masked():
    url = f"https://download.example.invalid/{uuid.uuid4().hex}/restore.tar.gz"
    xcom = {"restore_job_id": "a" * 24, "cluster_name": CLUSTER, "delivery_urls": [url], "components": []}
    operator = AtlasDownloadSnapshotOperator(
        task_id="download", destination="/tmp", restore_job="{{ params.job }}"
    )
    operator.render_template_fields({"params": {"job": json.dumps(xcom)}})  # type: ignore[arg-type]
    assert url in operator.restore_job
    assert url not in redact(operator.restore_job)


def test_object_storage_destination_receives_the_file(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    [result] = run(f"file://{tmp_path}/store", restore_job=sensor_xcom(job, group_id))
    assert result["path"] == f"file://{tmp_path}/store/restore-{job['id']}.tar.gz"
    assert (tmp_path / "store" / f"restore-{job['id']}.tar.gz").stat().st_size == result["bytes"]


def test_file_name_template_names_the_files(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id, SHARDED, size=50_000)
    results = run(
        tmp_path,
        restore_job=sensor_xcom(job, group_id, SHARDED),
        file_name_template="{cluster_name}-{index}-{replica_set}.tgz",
    )
    assert [Path(result["path"]).name for result in results] == [
        f"{SHARDED}-{index}-{component['replicaSetName']}.tgz"
        for index, component in enumerate(job["components"], start=1)
    ]


def test_file_name_template_giving_one_name_to_several_files_is_refused(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id, SHARDED, size=50_000)
    with pytest.raises(AtlasInputError, match="same name"):
        run(tmp_path, restore_job=sensor_xcom(job, group_id, SHARDED), file_name_template="snapshot.tgz")
    assert emu.stats.count(route="download") == 0


def test_nothing_to_download_is_refused_when_the_task_is_defined():
    with pytest.raises(AtlasInputError, match="restore_job_id and cluster_name"):
        AtlasDownloadSnapshotOperator(task_id="download", destination="/tmp", restore_job_id="a" * 24)


def test_restore_job_that_is_not_a_dict_is_refused_without_echoing_it(connect, tmp_path):
    with pytest.raises(AtlasInputError, match="must be the restore-job sensor's XCom value") as raised:
        run(tmp_path, restore_job="https://secret.example/link")
    assert "secret.example" not in str(raised.value)


def test_templated_fields():
    assert set(AtlasDownloadSnapshotOperator.template_fields) == {
        "restore_job",
        "restore_job_id",
        "snapshot_id",
        "cluster_name",
        "cluster_type",
        "group_id",
        "destination",
        "destination_conn_id",
        "atlas_conn_id",
        "private_endpoint_id",
    }


def test_download_of_a_job_as_the_api_returns_it_masks_its_private_links(
    emu, group_id, connect, tmp_path, log_text
):
    job = ready_job(emu, group_id)
    private = [f"https://private.example.invalid/{uuid.uuid4().hex}/restore.tar.gz" for _ in range(2)]
    job["privateDownloadDeliveryUrls"] = [{"deliveryUrl": private[0], "endpointId": "vpce-3bf78b0ddee411ba1"}]
    job["components"] = [{"privateDownloadDeliveryUrls": [{"deliveryUrl": private[1]}]}]
    [result] = run(tmp_path, restore_job=job | {"cluster_name": CLUSTER})
    assert Path(result["path"]).is_file()
    logs = log_text()
    for link in private:
        assert link not in redact(link)
        assert all(link not in redact(line) for line in logs.splitlines())


def test_an_unknown_storage_scheme_fails_before_any_request(emu, group_id, connect, tmp_path):
    job = ready_job(emu, group_id)
    with pytest.raises(AtlasDestinationUnusableError, match=r"nosuchscheme://.*cannot be used"):
        run("nosuchscheme://bucket/restores/", restore_job=sensor_xcom(job, group_id))
    assert emu.stats.count() == 0
