"""AtlasHook on flex clusters: the detection rules, the flex requests, and the recorded flex answers."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.api.endpoints import AtlasRequests
from airflow_provider_atlas_restore.api.flex_endpoints import MEDIA_TYPE_FLEX
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasClusterKindError, AtlasInputError
from airflow_provider_atlas_restore.models import RestoreJob, RestoreJobResult, RestoreJobState
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind
from tests.conftest import BASE_URL, CLUSTER, GROUP_ID, JOB_ID, jobs_url

FLEX_JOB_ID = "6a793f812c88faeba59bc399"
FLEX_SNAPSHOT = "6a6f78e0cab84da5c4476b25"
CLUSTER_URL = f"{BASE_URL}/api/atlas/v2/groups/{GROUP_ID}/clusters/{CLUSTER}"
FLEX_URL = f"{BASE_URL}/api/atlas/v2/groups/{GROUP_ID}/flexClusters/{CLUSTER}"


def serve_recorded(requests_mock, url, answer, method="GET"):
    requests_mock.register_uri(
        method, url, status_code=answer["status"], json=answer["body"], headers=answer["headers"]
    )


@pytest.fixture
def flex_cluster(requests_mock, recorded):
    """A flex cluster: the cluster API refuses it as the recorded answer does, the flex API serves it."""
    refused = recorded("v2-error-400-cluster-api")
    serve_recorded(requests_mock, CLUSTER_URL, refused)
    for method in ("GET", "POST"):
        serve_recorded(requests_mock, jobs_url(), refused, method)
    serve_recorded(requests_mock, f"{jobs_url()}/{FLEX_JOB_ID}", refused)
    serve_recorded(requests_mock, f"{CLUSTER_URL}/backup/snapshots", refused)
    serve_recorded(
        requests_mock, f"{FLEX_URL}/backup/restoreJobs/{FLEX_JOB_ID}", recorded("v2-flex-get-restore-ready")
    )
    serve_recorded(requests_mock, f"{FLEX_URL}/backup/snapshots", recorded("v2-flex-list-snapshots"))
    serve_recorded(
        requests_mock, f"{FLEX_URL}/backup/restoreJobs", recorded("v2-flex-create-restore-automated"), "POST"
    )
    return requests_mock


def sent(requests_mock):
    return [
        (request.method, request.path.split(f"/groups/{GROUP_ID.lower()}", 1)[1])
        for request in requests_mock.request_history
    ]


@pytest.mark.parametrize(
    "name", ["v2-flex-get-restore-running", "v2-flex-get-restore-ready", "v2-flex-create-restore-automated"]
)
def test_recorded_flex_job_is_read_through_the_hook_into_the_restore_job_model(
    hook, requests_mock, recorded, name
):
    answer = recorded(name)
    serve_recorded(requests_mock, f"{FLEX_URL}/backup/restoreJobs/{FLEX_JOB_ID}", answer)

    job = hook.get_restore_job(CLUSTER, FLEX_JOB_ID, GROUP_ID, cluster_type="flex")
    view = RestoreJob.from_api(job)

    assert job == answer["body"]  # unknown fields kept
    assert view.is_flex
    assert view.target_cluster_name == answer["body"]["targetDeploymentItemName"]
    expected = (
        RestoreJobState.FINISHED if answer["body"]["status"] == "COMPLETED" else RestoreJobState.PENDING
    )
    assert view.state is expected
    assert (view.finished_at is not None) == ("restoreFinishedDate" in answer["body"])
    assert view.expires_at is not None
    assert requests_mock.last_request.headers["Accept"] == MEDIA_TYPE_FLEX


def test_recorded_flex_listing_reads_every_job_once_in_server_order(hook, requests_mock, recorded):
    answer = recorded("v2-flex-list-restores")
    body = {**answer["body"], "links": answer["body"]["links"][:1]}  # one page: the recording has page 1 only
    requests_mock.get(f"{FLEX_URL}/backup/restoreJobs", json=body, headers=answer["headers"])

    jobs = hook.list_restore_jobs(CLUSTER, GROUP_ID, cluster_type="flex")

    assert [job["id"] for job in jobs] == [job["id"] for job in body["results"]]
    assert {RestoreJob.from_api(job).state for job in jobs} == {RestoreJobState.FINISHED}


def test_flex_and_dedicated_jobs_give_results_of_the_same_shape(recorded):
    flex = RestoreJobResult.from_job(
        recorded("v2-flex-get-restore-ready")["body"],
        restore_job_id=FLEX_JOB_ID,
        cluster_name=CLUSTER,
        group_id=GROUP_ID,
    ).to_xcom()
    dedicated = RestoreJobResult.from_job(
        recorded("v2-get-automated-finished")["body"],
        restore_job_id=JOB_ID,
        cluster_name=CLUSTER,
        group_id=GROUP_ID,
    ).to_xcom()

    assert flex.keys() == dedicated.keys()
    assert flex["state"] == dedicated["state"] == "finished"
    assert flex["finished_at"] == "2026-08-10T03:04:32+00:00"


def test_auto_switches_to_the_flex_api_after_one_refused_request_and_remembers(hook, flex_cluster):
    first = hook.get_restore_job(CLUSTER, FLEX_JOB_ID, GROUP_ID)
    second = hook.get_restore_job(CLUSTER, FLEX_JOB_ID, GROUP_ID)

    assert first == second
    assert RestoreJob.from_api(first).is_flex
    path = f"/clusters/{CLUSTER}/backup/restorejobs/{FLEX_JOB_ID}".lower()
    assert sent(flex_cluster) == [
        ("GET", path),
        ("GET", f"/flexclusters/{CLUSTER}/backup/restorejobs/{FLEX_JOB_ID}".lower()),
        ("GET", f"/flexclusters/{CLUSTER}/backup/restorejobs/{FLEX_JOB_ID}".lower()),
    ]
    assert hook.known_cluster_kind(CLUSTER, GROUP_ID) is ClusterKind.FLEX


def test_cluster_kind_reads_the_cluster_once_per_hook_and_logs_what_it_found(hook, flex_cluster, log_text):
    assert hook.cluster_kind(CLUSTER, GROUP_ID) is ClusterKind.FLEX
    assert hook.cluster_kind(CLUSTER, GROUP_ID) is ClusterKind.FLEX

    assert sent(flex_cluster) == [("GET", f"/clusters/{CLUSTER}".lower())]
    assert log_text().count(f"Cluster {CLUSTER} is a flex cluster") == 1


def test_a_description_served_by_the_cluster_api_is_read_for_the_flex_provider(hook, requests_mock, recorded):
    description = recorded("v2-cluster-get-dedicated")["body"]
    region = description["replicationSpecs"][0]["regionConfigs"][0]
    flex_region = {
        **region,
        "providerName": "TENANT",
        "electableSpecs": {"instanceSize": "M5", "effectiveInstanceSize": "FLEX"},
    }
    served = {
        **description,
        "replicationSpecs": [{**description["replicationSpecs"][0], "regionConfigs": [flex_region]}],
    }
    requests_mock.get(CLUSTER_URL, json=served)

    assert hook.cluster_kind(CLUSTER, GROUP_ID) is ClusterKind.FLEX


def test_a_dedicated_description_is_dedicated(hook, requests_mock, recorded):
    requests_mock.get(CLUSTER_URL, json=recorded("v2-cluster-get-dedicated")["body"])

    assert hook.cluster_kind(CLUSTER, GROUP_ID) is ClusterKind.DEDICATED


@pytest.mark.parametrize("name", ["v2-error-404-cluster-not-found", "v2-error-403-ip-access-list"])
def test_any_other_error_of_the_detection_is_raised_not_guessed(
    hook, requests_mock, recorded, name, log_text
):
    answer = recorded(name)
    serve_recorded(requests_mock, CLUSTER_URL, answer)
    serve_recorded(requests_mock, f"{jobs_url()}/{JOB_ID}", answer)

    with pytest.raises(AtlasApiError) as detected:
        hook.cluster_kind(CLUSTER, GROUP_ID)
    with pytest.raises(AtlasApiError) as operated:
        hook.get_restore_job(CLUSTER, JOB_ID, GROUP_ID)

    assert detected.value.status == operated.value.status == answer["status"]
    assert hook.known_cluster_kind(CLUSTER, GROUP_ID) is None
    assert "Could not tell whether cluster" in log_text()
    assert not any("flexClusters" in request.path for request in requests_mock.request_history)


def test_flex_api_refusing_a_dedicated_cluster_says_so(hook, requests_mock, recorded):
    serve_recorded(
        requests_mock, f"{FLEX_URL}/backup/restoreJobs/{JOB_ID}", recorded("v2-error-400-flex-api")
    )

    with pytest.raises(AtlasApiError, match="This is a dedicated cluster, not a Flex one"):
        hook.get_restore_job(CLUSTER, JOB_ID, GROUP_ID, cluster_type="flex")


def test_latest_flex_snapshot_is_the_newest_though_listed_oldest_first(hook, flex_cluster, recorded):
    snapshots = recorded("v2-flex-list-snapshots")["body"]["results"]

    latest = hook.latest_completed_snapshot(CLUSTER, GROUP_ID)

    assert latest["id"] == snapshots[-1]["id"] != snapshots[0]["id"]
    assert [method for method, _ in sent(flex_cluster)] == ["GET", "GET"]  # refused once, then flex


def test_create_on_flex_posts_the_flex_body(hook, flex_cluster):
    job = hook.create_restore_job(
        CLUSTER,
        "automated",
        GROUP_ID,
        snapshot_id=FLEX_SNAPSHOT,
        target_cluster_name="cluster-833",
        target_group_id=GROUP_ID,
    )

    assert job["status"] == "PENDING"
    assert flex_cluster.last_request.json() == {
        "snapshotId": FLEX_SNAPSHOT,
        "targetDeploymentItemName": "cluster-833",
        "targetProjectId": GROUP_ID,
    }
    assert flex_cluster.last_request.headers["Content-Type"] == MEDIA_TYPE_FLEX


@pytest.mark.parametrize(
    ("delivery_type", "arguments", "message"),
    [
        ("download", {"snapshot_id": FLEX_SNAPSHOT}, "cannot be honoured on a flex cluster"),
        (
            "pointInTime",
            {
                "target_cluster_name": "t",
                "target_group_id": GROUP_ID,
                "point_in_time_utc_seconds": 1786332905,
            },
            "cannot be honoured",
        ),
    ],
)
def test_create_on_flex_refuses_what_flex_cannot_do_before_any_request(
    hook, requests_mock, delivery_type, arguments, message
):
    with pytest.raises(AtlasInputError, match=message):
        hook.create_restore_job(CLUSTER, delivery_type, GROUP_ID, cluster_type="flex", **arguments)

    assert requests_mock.request_history == []


def test_cancel_on_flex_is_refused_before_any_request(hook, requests_mock):
    with pytest.raises(AtlasClusterKindError, match="no cancel for flex restore jobs"):
        hook.cancel_restore_job(CLUSTER, FLEX_JOB_ID, GROUP_ID, cluster_type="flex")

    assert requests_mock.request_history == []


def test_cancel_with_auto_on_flex_is_refused_and_nothing_reaches_the_flex_api(hook, flex_cluster):
    serve_recorded(
        flex_cluster,
        f"{jobs_url()}/{FLEX_JOB_ID}",
        {
            "status": 400,
            "headers": {},
            "body": {"errorCode": "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", "error": 400},
        },
        "DELETE",
    )

    with pytest.raises(AtlasClusterKindError):
        hook.cancel_restore_job(CLUSTER, FLEX_JOB_ID, GROUP_ID)

    assert not any("flexClusters" in request.path for request in flex_cluster.request_history)


def test_download_flex_snapshot_asks_backup_download_and_masks_the_link(hook, requests_mock, recorded):
    link = "https://snapshots.example.invalid/secret-flex-token/6a6f78e0cab84da5c4476b25.tgz"
    body = {
        **recorded("v2-flex-create-restore-download")["body"],
        "deliveryType": "DOWNLOAD",
        "snapshotUrl": link,
    }
    requests_mock.post(f"{FLEX_URL}/backup/download", json=body)

    job = hook.download_flex_snapshot(CLUSTER, FLEX_SNAPSHOT, GROUP_ID)

    assert requests_mock.last_request.json() == {"snapshotId": FLEX_SNAPSHOT}
    assert RestoreJob.from_api(job).delivery_urls == [link]
    from airflow_provider_atlas_restore.masking import redact_delivery_urls

    assert link not in str(redact_delivery_urls(job))


def test_flex_requests_are_refused_below_v2():
    with pytest.raises(AtlasInputError, match="only through API v2"):
        AtlasRequests("v1.0").get_flex_restore_job_request(GROUP_ID, CLUSTER, FLEX_JOB_ID)


@pytest.mark.parametrize(
    "builder",
    [
        lambda api: api.get_flex_restore_job_request(GROUP_ID, CLUSTER, "../x"),
        lambda api: api.get_flex_snapshot_request(GROUP_ID, CLUSTER, "nothex"),
        lambda api: api.list_flex_restore_jobs_request(GROUP_ID, "bad/name"),
        lambda api: api.download_flex_snapshot_request("short", CLUSTER, FLEX_SNAPSHOT),
        lambda api: api.list_flex_snapshots_request(GROUP_ID, CLUSTER, items_per_page=501),
    ],
    ids=["job id", "snapshot id", "cluster name", "group id", "page size"],
)
def test_flex_builders_check_ids_before_they_reach_a_url(builder):
    with pytest.raises(AtlasInputError):
        builder(AtlasRequests())
