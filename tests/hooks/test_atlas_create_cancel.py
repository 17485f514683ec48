"""AtlasHook: creating restore jobs of each delivery type, and cancelling them."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, jobs_url

SNAPSHOT = "6a79468a2c88faeba59de489"
TARGET = {"target_cluster_name": "Target-1", "target_group_id": "6a794320c0eb9e7a17728a63"}


@pytest.mark.parametrize(
    ("delivery_type", "arguments", "message"),
    [
        ("download", {}, "A download restore needs snapshot_id"),
        ("download", {"snapshot_id": SNAPSHOT, **TARGET}, "A download restore takes only snapshot_id"),
        ("download", {"snapshot_id": "short"}, "snapshot_id='short'"),
        ("automated", {"snapshot_id": SNAPSHOT}, "needs target_cluster_name and target_group_id"),
        ("automated", {**TARGET}, "An automated restore needs snapshot_id"),
        (
            "automated",
            {"snapshot_id": SNAPSHOT, **TARGET, "oplog_ts": 1786332905},
            "restores a whole snapshot",
        ),
        (
            "automated",
            {"snapshot_id": SNAPSHOT, "target_cluster_name": "-x", "target_group_id": GROUP_ID},
            "target_cluster_name",
        ),
        ("pointInTime", {**TARGET}, "needs point_in_time_utc_seconds, or oplog_ts together with oplog_inc"),
        ("pointInTime", {**TARGET, "oplog_ts": 1786332905}, "oplog_ts together with oplog_inc"),
        (
            "pointInTime",
            {**TARGET, "point_in_time_utc_seconds": 1786332905, "oplog_ts": 1786332905, "oplog_inc": 1},
            "not both",
        ),
        (
            "pointInTime",
            {**TARGET, "point_in_time_utc_seconds": 12},
            "point_in_time_utc_seconds=12 is out of range",
        ),
        ("pointInTime", {**TARGET, "oplog_ts": 1786332905, "oplog_inc": 0}, "oplog_inc=0 is out of range"),
        ("pointInTime", {"point_in_time_utc_seconds": 1786332905}, "needs target_cluster_name"),
        ("tape", {"snapshot_id": SNAPSHOT}, "delivery_type='tape' is not allowed"),
    ],
)
def test_create_refuses_what_the_delivery_type_does_not_allow_before_any_request(
    hook, requests_mock, delivery_type, arguments, message
):
    with pytest.raises(AtlasInputError, match=message.replace("(", r"\(")):
        hook.create_restore_job(CLUSTER, delivery_type, **arguments)

    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("delivery_type", "arguments", "body"),
    [
        ("download", {"snapshot_id": SNAPSHOT}, {"deliveryType": "download", "snapshotId": SNAPSHOT}),
        (
            "automated",
            {"snapshot_id": SNAPSHOT, **TARGET},
            {
                "deliveryType": "automated",
                "snapshotId": SNAPSHOT,
                "targetClusterName": "Target-1",
                "targetGroupId": "6a794320c0eb9e7a17728a63",
            },
        ),
        (
            "pointInTime",
            {**TARGET, "point_in_time_utc_seconds": 1786332905},
            {
                "deliveryType": "pointInTime",
                "targetClusterName": "Target-1",
                "targetGroupId": "6a794320c0eb9e7a17728a63",
                "pointInTimeUTCSeconds": 1786332905,
            },
        ),
        (
            "pointInTime",
            {**TARGET, "oplog_ts": 1786332905, "oplog_inc": 3},
            {
                "deliveryType": "pointInTime",
                "targetClusterName": "Target-1",
                "targetGroupId": "6a794320c0eb9e7a17728a63",
                "oplogTs": 1786332905,
                "oplogInc": 3,
            },
        ),
    ],
)
def test_create_posts_the_body_with_the_versioned_media_type(
    hook, requests_mock, delivery_type, arguments, body
):
    requests_mock.post(jobs_url(), json={"id": JOB_ID, **body})

    job = hook.create_restore_job(CLUSTER, delivery_type, **arguments)

    sent = requests_mock.last_request
    assert json.loads(sent.body) == body
    assert sent.headers["Content-Type"] == "application/vnd.atlas.2023-01-01+json"
    assert sent.headers["Accept"] == "application/vnd.atlas.2023-01-01+json"
    assert job["id"] == JOB_ID


def test_create_is_not_repeated_after_a_server_error(hook, requests_mock):
    requests_mock.post(jobs_url(), status_code=503, json={"error": 503, "errorCode": "SERVICE_UNAVAILABLE"})

    with pytest.raises(AtlasApiError, match="503"):
        hook.create_restore_job(CLUSTER, "download", snapshot_id=SNAPSHOT)
    assert requests_mock.call_count == 1  # the job may exist: a second POST could start a second restore


def test_create_is_not_repeated_after_a_lost_answer(hook, requests_mock):
    requests_mock.post(jobs_url(), exc=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(AtlasApiError, match="read timeout"):
        hook.create_restore_job(CLUSTER, "download", snapshot_id=SNAPSHOT)
    assert requests_mock.call_count == 1


def test_create_is_repeated_after_429(hook, requests_mock, sleeps):
    requests_mock.post(
        jobs_url(),
        [
            {"status_code": 429, "json": {"error": 429}, "headers": {"Retry-After": "2"}},
            {"json": {"id": JOB_ID}},
        ],
    )

    assert hook.create_restore_job(CLUSTER, "download", snapshot_id=SNAPSHOT)["id"] == JOB_ID
    assert sleeps[0] >= 2


def test_create_is_repeated_when_no_connection_was_made(monkeypatch, sleeps):
    from tests.conftest import connection_json

    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_CLOSED_PORT", connection_json(host="127.0.0.1", port=9, extra={"scheme": "http"})
    )
    hook = AtlasHook("atlas_closed_port", retry_max_attempts=3)
    hook.sleep = sleeps.append

    with pytest.raises(AtlasApiError, match="Connection refused"):
        hook.create_restore_job(CLUSTER, "download", snapshot_id=SNAPSHOT)
    assert len(sleeps) == 2  # refused connections carried nothing: safe to try again


def test_cancel_sends_delete_and_accepts_204(hook, requests_mock):
    requests_mock.delete(f"{jobs_url()}/{JOB_ID}", status_code=204)

    assert hook.cancel_restore_job(CLUSTER, JOB_ID, cluster_type="dedicated") is None
    assert requests_mock.last_request.method == "DELETE"


def test_cancel_refused_by_atlas_says_so(hook, requests_mock):
    requests_mock.delete(
        f"{jobs_url()}/{JOB_ID}",
        status_code=405,
        json={
            "error": 405,
            "errorCode": "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED",
            "reason": "Method Not Allowed",
        },
    )

    with pytest.raises(
        AtlasApiError, match=f"Atlas refuses to cancel restore job {JOB_ID} of cluster {CLUSTER}"
    ) as caught:
        hook.cancel_restore_job(CLUSTER, JOB_ID, cluster_type="dedicated")
    assert caught.value.status == 405
    assert caught.value.error_code == "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED"


def test_cancel_validates_the_job_id_before_any_request(hook, requests_mock):
    with pytest.raises(AtlasInputError, match="restore_job_id"):
        hook.cancel_restore_job(CLUSTER, "x")
    assert requests_mock.call_count == 0
