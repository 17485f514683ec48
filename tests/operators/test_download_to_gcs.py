"""AtlasDownloadSnapshotOperator into a GCS server (gcp-storage-emulator) through ObjectStoragePath and gcsfs."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import CorruptDownloadError
from tests.conftest import GCS_TEST_CONN_ID
from tests.operators.download_helpers import ready_job, run, sensor_xcom

pytestmark = pytest.mark.usefixtures("emulator_time", "connect", "gcs_object_storage")

MIB = 1 << 20


def to_gcs(bucket: str, **arguments: Any) -> list[dict[str, Any]]:
    """Run the download operator into ``gs://<bucket>/restores/``; return its XCom value."""
    arguments.setdefault("upload_part_size", 5 * MIB)
    return run(f"gs://{bucket}/restores/", destination_conn_id=GCS_TEST_CONN_ID, allow_http=True, **arguments)


def objects(gcs_object_storage: Any, bucket: str) -> list[str]:
    gcs_object_storage.invalidate_cache()
    return sorted(gcs_object_storage.find(bucket))


def test_a_snapshot_lands_whole_in_gcs_with_its_metadata_and_sha256(
    emu, group_id, gcs_bucket, gcs_object_storage
):
    job = ready_job(emu, group_id, size=12 * MIB)
    [result] = to_gcs(gcs_bucket, restore_job=sensor_xcom(job, group_id))
    path = f"{gcs_bucket}/restores/restore-{job['id']}.tar.gz"
    assert result["path"] == f"gs://{path}"
    assert objects(gcs_object_storage, gcs_bucket) == [path]  # no temporary or write-check object
    data = gcs_object_storage.cat_file(path)
    assert (len(data), hashlib.sha256(data).hexdigest()) == (result["bytes"], result["sha256"])
    metadata = gcs_object_storage.info(path)["metadata"]
    assert metadata == {
        "atlas-restore-job-id": job["id"],
        "atlas-snapshot-id": job["snapshotId"],
        "atlas-cluster": "Cluster0",
        "sha256": result["sha256"],
    }


def test_gzip_corruption_leaves_no_object_in_gcs(emu, group_id, gcs_bucket, gcs_object_storage):
    size = 6 * MIB
    job = ready_job(emu, group_id, size=size)
    emu.faults.add(route="download", kind="corrupt", after_bytes=int(size * 0.99), count=None)
    with pytest.raises(CorruptDownloadError):
        to_gcs(gcs_bucket, restore_job=sensor_xcom(job, group_id), max_attempts=1)
    assert objects(gcs_object_storage, gcs_bucket) == []


def test_skip_if_same_keeps_a_gcs_object_of_the_same_snapshot(emu, group_id, gcs_bucket, gcs_object_storage):
    emu.single_use_links = False
    job = ready_job(emu, group_id, size=MIB)
    [first] = to_gcs(gcs_bucket, restore_job=sensor_xcom(job, group_id))
    [again] = to_gcs(gcs_bucket, restore_job=sensor_xcom(job, group_id), if_exists="skip_if_same")
    assert again == {**first, "kept": True}
    assert emu.stats.count(route="download") == 1
