"""AtlasListRestoreJobsOperator: filters, caps, templating and XCom (requests-mock)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from tests.conftest import CLUSTER, GROUP_ID, jobs_url, make_job, page_body

URL = "https://restore.example.invalid/secret-link.tar.gz"
JOBS = [
    make_job(9, deliveryUrl=[URL], expiresAt="2099-01-01T00:00:00Z"),
    make_job(8),
    make_job(7, deliveryType="automated", finishedAt="2026-08-10T03:40:10Z", deliveryUrl=[]),
    make_job(6, failed=True),
    make_job(5, deliveryType="pointInTime"),
]


@pytest.fixture
def served(requests_mock):
    requests_mock.get(jobs_url(), json=page_body(JOBS, total=len(JOBS)))
    return requests_mock


def run(**arguments) -> list[dict]:
    operator = AtlasListRestoreJobsOperator(task_id="list", cluster_name=CLUSTER, **arguments)
    return operator.execute(context={})


def test_returns_every_job_in_server_order(atlas_connection, served):
    assert [job["id"] for job in run()] == [job["id"] for job in JOBS]


def test_result_is_json_serialisable(atlas_connection, served):
    assert json.loads(json.dumps(run())) == run()


def test_delivery_urls_are_redacted_unless_asked_for(atlas_connection, served):
    assert run()[0]["deliveryUrl"] == ["***"]
    assert run(include_delivery_urls=True)[0]["deliveryUrl"] == [URL]


def test_filters_by_delivery_type(atlas_connection, served):
    assert [job["id"] for job in run(delivery_type="automated")] == [JOBS[2]["id"]]


@pytest.mark.parametrize(
    ("state", "expected"),
    [("ready", [0]), ("pending", [1, 4]), (["finished", "failed"], [2, 3])],
)
def test_filters_by_state(atlas_connection, served, state, expected):
    assert [job["id"] for job in run(state=state)] == [JOBS[i]["id"] for i in expected]


def test_max_items_applies_after_filters(atlas_connection, served):
    assert [job["id"] for job in run(state="pending", max_items=1)] == [JOBS[1]["id"]]


def test_max_items_zero_sends_nothing(atlas_connection, served):
    assert run(max_items=0) == []
    assert served.call_count == 0


def test_group_id_argument_wins_over_the_connection_extra(atlas_connection, requests_mock):
    other = "0123456789abcdef01234567"
    requests_mock.get(jobs_url(group_id=other), json=page_body([], total=0))

    assert run(group_id=other) == []
    assert requests_mock.call_count == 1


def test_logs_jobs_and_pages_read(atlas_connection, served, log_text):
    run(state="ready")

    assert "Listed 5 restore jobs of cluster backupRestores-305 in 1 pages; returning 1" in log_text()


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"delivery_type": "tape"}, "delivery_type"),
        ({"state": "done"}, "state"),
        ({"page_size": 501}, "page_size"),
        ({"max_items": -1}, "max_items"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(arguments, parameter):
    with pytest.raises(AtlasInputError, match=parameter):
        AtlasListRestoreJobsOperator(task_id="list", cluster_name=CLUSTER, **arguments)


@pytest.mark.parametrize(("field", "value"), [("cluster_name", "bad name"), ("group_id", "nope")])
def test_bad_templated_values_fail_before_any_request(atlas_connection, requests_mock, field, value):
    arguments = {"cluster_name": CLUSTER, field: value}
    operator = AtlasListRestoreJobsOperator(task_id="list", **arguments)

    with pytest.raises(AtlasInputError, match=field):
        operator.execute(context={})
    assert requests_mock.call_count == 0


def test_templated_fields():
    assert set(AtlasListRestoreJobsOperator.template_fields) == {
        "cluster_name",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    }


def test_group_id_from_connection_is_used_when_none_given(atlas_connection, served):
    run()

    assert f"/groups/{GROUP_ID}/" in served.last_request.url


def test_redaction_leaves_the_listed_job_unchanged():
    from airflow_provider_atlas_restore.operators.restore_jobs import redact_delivery_urls

    job = make_job(
        1,
        deliveryUrl=[URL],
        components=[
            {
                "replicaSetName": "s0",
                "downloadUrl": URL,
                "privateDownloadDeliveryUrls": [{"deliveryUrl": URL, "endpointId": "vpce-1"}],
            }
        ],
    )
    before = json.dumps(job, sort_keys=True)

    redacted = redact_delivery_urls(job)

    assert json.dumps(job, sort_keys=True) == before
    assert redacted["deliveryUrl"] == ["***"]
    assert redacted["components"] == [
        {
            "replicaSetName": "s0",
            "downloadUrl": "***",
            "privateDownloadDeliveryUrls": [{"deliveryUrl": "***", "endpointId": "vpce-1"}],
        }
    ]
