"""Export buckets and export jobs: `_id`, the URI of an export, states, reasons and XCom."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.export_bucket import ExportBucket
from airflow_provider_atlas_restore.models.export_job import (
    ExportJob,
    ExportJobResult,
    ExportJobState,
    evaluate_export_job,
)
from airflow_provider_atlas_restore.models.wait import WaitStatus

EXPORT_ID = "6a7945592c88faeba59d5e8e"


def test_recorded_bucket_is_read_by_its_underscore_id(recorded):
    body = recorded("v2-exportbucket-create")["body"]

    bucket = ExportBucket.from_api(body)

    assert (bucket.id, bucket.bucket_name, bucket.cloud_provider) == (body["_id"], "test-bucket", "AWS")
    assert bucket.object_storage_uri("exported_snapshots/a/b") == "s3://test-bucket/exported_snapshots/a/b"


@pytest.mark.parametrize(
    ("provider", "uri"),
    [("AWS", "s3://b1/p/q"), ("GCP", "gs://b1/p/q"), ("AZURE", "abfs://b1/p/q"), ("OTHER", None)],
)
def test_each_provider_maps_to_its_object_storage_scheme(provider, uri):
    assert (
        ExportBucket.from_api({"_id": "x", "bucketName": "b1", "cloudProvider": provider}).object_storage_uri(
            "/p/q"
        )
        == uri
    )


def test_recorded_export_create_is_queued_with_its_prefix(recorded):
    body = recorded("v2-export-create")["body"]

    view = ExportJob.from_api(body)
    outcome = evaluate_export_job(body, cluster_name="cluster-989", export_id=EXPORT_ID)

    assert view.state is ExportJobState.QUEUED
    assert view.prefix.startswith("exported_snapshots/a0123456789abcdef012345a/")
    assert (view.finished_at, view.components) == (None, [])
    assert outcome.status is WaitStatus.PENDING
    assert outcome.message == (
        f"Export job {EXPORT_ID} of cluster cluster-989 is Queued, waiting for the export into {view.prefix}."
    )


def test_success_is_the_state_not_the_export_status(recorded):
    body = {
        **recorded("v2-export-create")["body"],
        "state": "Successful",
        "finishedAt": "2026-08-10T03:43:25Z",
    }

    outcome = evaluate_export_job(body, cluster_name="cluster-989")

    assert body["exportStatus"] == {"exportedCollections": 0, "totalCollections": 0}
    assert outcome.status is WaitStatus.DONE


@pytest.mark.parametrize("state", ["Failed", "Cancelled"])
def test_failure_gives_atlas_reason(state):
    body = {
        "id": EXPORT_ID,
        "state": state,
        "stateReason": {"errorCode": "BUCKET_DENIED", "message": "Access denied."},
    }

    outcome = evaluate_export_job(body, cluster_name="C0")

    assert outcome.status is WaitStatus.FAILED
    assert (
        outcome.message == f"Export job {EXPORT_ID} of cluster C0 is {state}: Access denied (BUCKET_DENIED)."
    )


def test_result_with_bucket_has_the_uri_and_goes_through_xcom(recorded):
    job = {
        **recorded("v2-export-create")["body"],
        "state": "Successful",
        "components": [{"exportId": EXPORT_ID, "replicaSetName": "atlas-x-shard-0"}],
    }
    bucket = recorded("v2-exportbucket-create")["body"]

    result = ExportJobResult.from_job(
        job,
        export_job_id=EXPORT_ID,
        cluster_name="cluster-989",
        group_id="b0123456789abcdef012345b",
        bucket=bucket,
    )

    assert result.uri == f"s3://test-bucket/{job['prefix']}"
    assert ExportJobResult.from_xcom(result.to_xcom()) == result


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "export_job_id is missing"),
        ({"export_job_id": EXPORT_ID, "state": "Done"}, "state='Done' is not allowed"),
        ({"export_job_id": EXPORT_ID, "components": "x"}, "components must be a list"),
    ],
)
def test_bad_xcom_is_refused(data, message):
    with pytest.raises(AtlasInputError, match=message):
        ExportJobResult.from_xcom(data)
