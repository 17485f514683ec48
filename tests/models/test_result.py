"""RestoreJobResult: the sensor's XCom value, written by to_xcom and read back strictly by from_xcom."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_atlas_restore.download.destination import DownloadResult
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models import RestoreComponent, RestoreJobResult, RestoreJobState
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, make_job

LINK = "https://restore.example.invalid/aB12up63eFh16ZmBiQ9cUO5Q/restore.tar.gz"
ECHOED_ID = "0" * 24


def sharded_ready_job() -> dict[str, Any]:
    return make_job(
        int(ECHOED_ID, 16),
        snapshotId="6a79404c2c88faeba59bb001",
        deliveryUrl=[LINK],
        expiresAt="2026-08-10T04:44:52Z",
        components=[
            {"replicaSetName": "shard-0", "downloadUrl": f"{LINK}?s=0"},
            {"replicaSetName": "config", "downloadUrl": f"{LINK}?s=c"},
        ],
        unknownField={"kept": True},
    )


def test_to_xcom_gives_the_sensor_shape_with_the_id_asked_for():
    result = RestoreJobResult.from_job(
        sharded_ready_job(), restore_job_id=JOB_ID, cluster_name=CLUSTER, group_id=GROUP_ID
    )

    assert result.to_xcom() == {
        "restore_job_id": JOB_ID,
        "cluster_name": CLUSTER,
        "group_id": GROUP_ID,
        "delivery_type": "download",
        "state": "ready",
        "snapshot_id": "6a79404c2c88faeba59bb001",
        "expires_at": "2026-08-10T04:44:52+00:00",
        "finished_at": None,
        "delivery_urls": [LINK],
        "components": [
            {"replica_set_name": "shard-0", "download_url": f"{LINK}?s=0"},
            {"replica_set_name": "config", "download_url": f"{LINK}?s=c"},
        ],
    }


@pytest.mark.parametrize(
    "job",
    [
        sharded_ready_job(),
        make_job(2),
        make_job(3, deliveryType="automated", finishedAt="2026-08-10T05:00:00Z"),
        make_job(4, failed=True),
    ],
    ids=["sharded ready download", "pending download", "finished automated", "failed"],
)
def test_xcom_reads_back_to_the_same_result_through_json(job):
    result = RestoreJobResult.from_job(job, restore_job_id=JOB_ID, cluster_name=CLUSTER, group_id=GROUP_ID)

    read_back = RestoreJobResult.from_xcom(json.loads(json.dumps(result.to_xcom())))

    assert read_back == result
    assert read_back.to_xcom() == result.to_xcom()


def test_from_xcom_ignores_unknown_keys_and_reads_missing_fields_as_unknown():
    result = RestoreJobResult.from_xcom({"restore_job_id": JOB_ID, "delivery_urls": [LINK], "added_later": 1})

    assert result == RestoreJobResult(
        restore_job_id=JOB_ID, cluster_name=None, group_id=None, delivery_urls=(LINK,)
    )


def test_from_xcom_reads_types_not_text():
    result = RestoreJobResult.from_xcom(
        {
            "restore_job_id": JOB_ID,
            "state": "expired",
            "expires_at": "2026-08-10T04:44:52+00:00",
            "components": [{"replica_set_name": "shard-0", "download_url": None}],
        }
    )

    assert result.state is RestoreJobState.EXPIRED
    assert result.expires_at == datetime(2026, 8, 10, 4, 44, 52, tzinfo=timezone.utc)
    assert result.components == (RestoreComponent(replica_set_name="shard-0", download_url=None),)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("restore_job_id", "../../etc", r"restore_job_id=.* is not a valid Atlas id"),
        ("group_id", "x" * 24, r"group_id=.* is not a valid Atlas id"),
        ("cluster_name", "a/b", "cluster_name"),
        ("state", "done", r"state='done' is not a restore job state"),
        ("expires_at", "soon", r"expires_at='soon' is not an ISO 8601 timestamp"),
        ("snapshot_id", 42, "snapshot_id=42 is not text"),
        ("delivery_urls", LINK, "delivery_urls must be a list of download links"),
        ("delivery_urls", [LINK, 1], "delivery_urls must be a list of download links"),
        ("components", [LINK], "components must be a list of"),
        ("components", [{"replica_set_name": "s0", "download_url": [LINK]}], "download_url of component 1"),
    ],
)
def test_from_xcom_refuses_a_bad_field_naming_it_never_the_link(field, value, message):
    xcom = RestoreJobResult(restore_job_id=JOB_ID, cluster_name=CLUSTER, group_id=GROUP_ID).to_xcom()

    with pytest.raises(AtlasInputError, match=message) as refused:
        RestoreJobResult.from_xcom(xcom | {field: value})

    assert LINK not in str(refused.value)


def test_from_xcom_refuses_what_is_not_a_dict():
    with pytest.raises(AtlasInputError, match="must be the restore-job sensor's XCom value"):
        RestoreJobResult.from_xcom([LINK])  # type: ignore[arg-type]


def test_from_job_refuses_a_hostile_id_before_it_reaches_a_file_name():
    with pytest.raises(AtlasInputError, match="not a valid Atlas id"):
        RestoreJobResult.from_job(make_job(1), restore_job_id="../x", cluster_name=CLUSTER, group_id=GROUP_ID)


@pytest.mark.parametrize(
    ("state", "is_failure"),
    [(state, state.value in ("failed", "cancelled", "expired")) for state in RestoreJobState],
    ids=[state.value for state in RestoreJobState],
)
def test_only_failed_cancelled_and_expired_are_failures(state, is_failure):
    assert state.is_failure is is_failure
    assert not (state.is_failure and state.is_success)


def test_download_result_to_xcom_is_the_download_tasks_shape():
    result = DownloadResult(path="/data/restore-1.tar.gz", bytes=10, sha256="ab" * 32, replica_set="shard-0")

    assert result.to_xcom() == {
        "path": "/data/restore-1.tar.gz",
        "bytes": 10,
        "sha256": "ab" * 32,
        "replica_set": "shard-0",
        "kept": False,
        "snapshot_id": None,
    }
    assert result.to_dict() == result.to_xcom()
