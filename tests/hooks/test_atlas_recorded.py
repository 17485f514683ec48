"""Every answer recorded from the real Atlas (../shared/atlas-api/recorded) read through the hook."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.models import RestoreJob
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, SHARED_API_DIR, jobs_url

RECORDED = sorted(path.stem for path in (SHARED_API_DIR / "recorded").glob("*.json"))


def serve(requests_mock, answer, version: str) -> None:
    headers = answer["headers"]
    requests_mock.get(
        jobs_url(version=version), status_code=answer["status"], json=answer["body"], headers=headers
    )
    requests_mock.get(
        f"{jobs_url(version=version)}/{JOB_ID}",
        status_code=answer["status"],
        json=answer["body"],
        headers=headers,
    )


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_answer_is_parsed_or_raises_a_clear_error(atlas_connection, requests_mock, recorded, name):
    answer = recorded(name)
    version = "v1.0" if name.startswith("v1") else "v2"
    serve(requests_mock, answer, version)
    hook = AtlasHook(atlas_connection, api_version=version, retry_max_attempts=1)

    body = answer["body"]
    if answer["status"] >= 400:
        with pytest.raises(AtlasApiError) as caught:
            # The dedicated route as told: with "auto", the flex error would switch to the flex API.
            hook.get_restore_job(CLUSTER, JOB_ID, cluster_type="dedicated")
        assert caught.value.status == answer["status"]
        assert caught.value.error_code == body.get("errorCode")
        assert body["detail"] in str(caught.value)
    elif not isinstance(body, dict):  # 204 without a body (a snapshot delete): not a job
        with pytest.raises(AtlasResponseError, match="expected a JSON object"):
            hook.get_restore_job(CLUSTER, JOB_ID)
    elif "results" in body and not all("id" in item for item in body["results"]):
        # Export buckets are listed with "_id": a listing cannot tell such items apart.
        with pytest.raises(AtlasResponseError, match="has no id"):
            hook.list_restore_jobs(CLUSTER, GROUP_ID)
    elif "results" in body:
        listed = hook.list_restore_jobs(CLUSTER, GROUP_ID)
        assert listed == body["results"]  # unknown fields kept, server order
        assert all(RestoreJob.from_api(job).state for job in listed)
    else:
        job = hook.get_restore_job(CLUSTER, JOB_ID)
        assert job == body  # unknown fields kept, whatever the resource
        assert RestoreJob.from_api(job).id == body.get("id")


def test_v1_documented_single_string_delivery_url_is_read_as_one_link(recorded):
    jobs = recorded("v1-docs-example")["body"]["results"]

    assert RestoreJob.from_api(jobs[1]).delivery_urls == [jobs[1]["deliveryUrl"]]


def test_v1_sharded_download_lists_each_replica_set(recorded):
    job = RestoreJob.from_api(recorded("v1-docs-list-sharded")["body"]["results"][1])

    assert [c.replica_set_name for c in job.components] == ["atlas-abcdef-config-0", "atlas-abcdef-shard-0"]
    assert job.download_ready
