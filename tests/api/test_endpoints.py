"""Request building and answer parsing shared by the hook and the trigger."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_atlas_restore.api.endpoints import AtlasRequests
from airflow_provider_atlas_restore.api.responses import parse_retry_after
from airflow_provider_atlas_restore.exceptions import AtlasInputError

GROUP = "6a793f6b2c88faeba59bae37"


def test_path_parts_are_validated_then_quoted():
    request = AtlasRequests().list_restore_jobs_request(GROUP, "Cluster-0")

    assert request.path == f"/api/atlas/v2/groups/{GROUP}/clusters/Cluster-0/backup/restoreJobs"
    assert request.url("http://127.0.0.1:1/") == (
        f"http://127.0.0.1:1/api/atlas/v2/groups/{GROUP}/clusters/Cluster-0/backup/restoreJobs"
        "?pageNum=1&itemsPerPage=500&includeCount=true"
    )


@pytest.mark.parametrize("cluster", ["../x", "a/b", "a?b", "a%2F", "", " a", "ä"])
def test_cluster_names_that_could_escape_the_path_are_refused(cluster):
    with pytest.raises(AtlasInputError, match="cluster_name"):
        AtlasRequests().list_restore_jobs_request(GROUP, cluster)


def test_unknown_api_version_is_refused():
    with pytest.raises(
        AtlasInputError, match=re.escape("api_version='v3' is not allowed: it must be one of 'v2', 'v1.0'")
    ):
        AtlasRequests("v3")


def test_requests_without_body_send_no_content_type():
    request = AtlasRequests("v1.0").get_project_request(GROUP)

    assert request.headers == {"Accept": "application/json"}
    assert request.content is None


@pytest.mark.parametrize(
    ("version", "accept"),
    [("v2", "application/vnd.atlas.2024-08-05+json"), ("v1.0", "application/json")],
)
def test_cluster_and_backup_schedule_ask_for_the_version_that_is_not_sunset(version, accept):
    requests = AtlasRequests(version)
    cluster = requests.get_cluster_request(GROUP, "Cluster-0")
    schedule = requests.get_backup_schedule_request(GROUP, "Cluster-0")

    assert (cluster.method, schedule.method) == ("GET", "GET")
    assert cluster.path == f"/api/atlas/{version}/groups/{GROUP}/clusters/Cluster-0"
    assert schedule.path == f"/api/atlas/{version}/groups/{GROUP}/clusters/Cluster-0/backup/schedule"
    assert cluster.headers == schedule.headers == {"Accept": accept}


def test_other_requests_keep_the_2023_01_01_version():
    assert AtlasRequests().get_restore_job_request(GROUP, "C", "a" * 24).headers == {
        "Accept": "application/vnd.atlas.2023-01-01+json"
    }


@pytest.mark.parametrize(
    ("value", "seconds"), [("55", 55.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_seconds_are_read(value, seconds):
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date_is_read_as_seconds_from_now():
    moment = datetime.now(timezone.utc) + timedelta(seconds=120)

    seconds = parse_retry_after(format_datetime(moment, usegmt=True))

    assert seconds is not None
    assert 110 <= seconds <= 121
