"""A flex snapshot downloaded by Airflow (dag.test) into S3 (moto) and GCS (gcp-storage-emulator): whole, atomic, checked."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import GCS_TEST_CONN_ID
from tests.operators.test_download_flex import FLEX, run_flex_dag, served
from tests.storage_servers import object_keys, unfinished_uploads

pytestmark = pytest.mark.usefixtures("airflow_database", "connect")

MIB = 1 << 20


@pytest.fixture
def flex_snapshot(emu, group_id):
    """A completed 6 MiB snapshot of a flex cluster."""
    emu.add_flex_cluster(group_id, FLEX)
    return emu.add_flex_snapshot(group_id, FLEX, size_bytes=6 * MIB)


def test_a_flex_snapshot_lands_whole_in_s3_with_its_metadata_and_sha256(
    emu, group_id, flex_snapshot, s3_server, s3_bucket, aws_connection
):
    result = run_flex_dag(
        f"s3://{s3_bucket}/restores/", flex_snapshot["id"], destination_conn_id=aws_connection
    )
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    key = f"restores/snapshot-{flex_snapshot['id']}.tgz"
    client = s3_server.client()
    assert written["path"] == f"s3://{s3_bucket}/{key}"
    assert object_keys(client, s3_bucket) == [key]  # no temporary or write-check object
    assert unfinished_uploads(client, s3_bucket) == []
    data = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (written["bytes"], written["sha256"])
    assert (written["bytes"], written["sha256"]) == served(emu, group_id, flex_snapshot["id"])
    metadata = client.head_object(Bucket=s3_bucket, Key=key)["Metadata"]
    assert metadata["atlas-snapshot-id"] == flex_snapshot["id"]
    assert metadata["atlas-cluster"] == FLEX
    tags = client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"]
    assert {"Key": "sha256", "Value": written["sha256"]} in tags


def test_a_corrupt_flex_snapshot_leaves_no_object_and_no_unfinished_upload_in_s3(
    emu, group_id, flex_snapshot, s3_server, s3_bucket, aws_connection
):
    emu.faults.add(route="flex_snapshot_file", kind="corrupt", after_bytes=5 * MIB, count=None)
    result = run_flex_dag(
        f"s3://{s3_bucket}/restores/", flex_snapshot["id"], destination_conn_id=aws_connection
    )
    assert result.task_states == {"download_flex": "failed"}
    client = s3_server.client()
    assert object_keys(client, s3_bucket) == []
    assert unfinished_uploads(client, s3_bucket) == []


def test_a_flex_snapshot_lands_whole_in_gcs_with_its_metadata(
    emu, group_id, flex_snapshot, gcs_bucket, gcs_object_storage
):
    result = run_flex_dag(
        f"gs://{gcs_bucket}/restores/", flex_snapshot["id"], destination_conn_id=GCS_TEST_CONN_ID
    )
    assert result.task_states == {"download_flex": "success"}
    [written] = result.xcom["download_flex"]
    path = f"{gcs_bucket}/restores/snapshot-{flex_snapshot['id']}.tgz"
    assert written["path"] == f"gs://{path}"
    gcs_object_storage.invalidate_cache()
    assert sorted(gcs_object_storage.find(gcs_bucket)) == [path]
    data = gcs_object_storage.cat_file(path)
    assert (len(data), hashlib.sha256(data).hexdigest()) == (written["bytes"], written["sha256"])
    metadata = gcs_object_storage.info(path)["metadata"]
    assert metadata["atlas-snapshot-id"] == flex_snapshot["id"]
    assert metadata["sha256"] == written["sha256"]
