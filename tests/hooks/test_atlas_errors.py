"""AtlasHook: error messages, retries and input validation (requests-mock)."""

from __future__ import annotations

import pytest
import requests
import requests_mock as requests_mock_module

from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasInputError,
    AtlasResponseError,
    AtlasTransportError,
)
from tests.conftest import CLUSTER, JOB_ID, PRIVATE_KEY, connection_json, jobs_url

JOB_URL = f"{jobs_url()}/{JOB_ID}"


def atlas_error(status: int, code: str | None, detail: str, **headers: str) -> dict[str, object]:
    body: dict[str, object] = {"error": status, "detail": detail, "reason": "Reason", "parameters": []}
    if code:
        body["errorCode"] = code
    return {"status_code": status, "json": body, "headers": headers}


@pytest.mark.parametrize(
    ("status", "code", "advice"),
    [
        (403, "IP_ADDRESS_NOT_ON_ACCESS_LIST", "Add this worker's public IP address to the API access list"),
        (404, "CLUSTER_NOT_FOUND", "Check the cluster name"),
        (404, "GROUP_NOT_FOUND", "Check the project (group) id"),
        (404, "RESOURCE_NOT_FOUND", "Check the ids in the request"),
        (410, "VERSION_GONE", "set the connection's api_version extra to v2"),
        (
            405,
            "ATLAS_BACKUP_CANCEL_SHARD_RESTORE_JOB_NOT_ALLOWED",
            "Atlas refuses this operation on this resource",
        ),
    ],
)
def test_error_codes_give_a_message_that_says_what_to_do(hook, requests_mock, status, code, advice):
    requests_mock.get(JOB_URL, **atlas_error(status, code, "the detail"))

    with pytest.raises(AtlasApiError) as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    error = caught.value
    assert (error.status, error.error_code, error.detail) == (status, code, "the detail")
    assert (error.method, error.path) == ("GET", JOB_URL.split(".invalid")[1])
    assert advice in str(error)
    assert requests_mock.call_count == 1  # 4xx other than 429 is not retried


def test_error_carries_reason_and_parameters(hook, requests_mock, recorded):
    answer = recorded("v2-error-404-cluster-not-found")
    requests_mock.get(JOB_URL, status_code=404, json=answer["body"], headers=answer["headers"])

    with pytest.raises(AtlasApiError) as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert caught.value.reason == "Not Found"
    assert caught.value.parameters == ["cluster-989", "b0123456789abcdef012345b"]


def test_html_error_body_gives_status_and_a_short_excerpt(hook, requests_mock):
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    requests_mock.get(JOB_URL, status_code=404, text=html, headers={"Content-Type": "text/html"})

    with pytest.raises(
        AtlasApiError, match=r"404 .*non-JSON answer: <html><head><title>502 Bad Gateway"
    ) as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert len(str(caught.value)) < 600


def test_429_is_retried_after_waiting_at_least_retry_after(hook, requests_mock, sleeps, recorded):
    limited = recorded("v2-error-429-rate-limited")
    requests_mock.get(
        JOB_URL,
        [
            {"status_code": 429, "json": limited["body"], "headers": {"Retry-After": "55"}},
            {"status_code": 200, "json": {"id": JOB_ID}},
        ],
    )

    assert hook.get_restore_job(CLUSTER, JOB_ID)["id"] == JOB_ID
    assert len(sleeps) == 1
    assert sleeps[0] >= 55


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_backoff(hook, requests_mock, sleeps, status):
    failures = [{"status_code": status, "text": "<html>busy</html>"}] * 3
    requests_mock.get(JOB_URL, [*failures, {"status_code": 200, "json": {"id": JOB_ID}}])

    assert hook.get_restore_job(CLUSTER, JOB_ID)["id"] == JOB_ID
    assert requests_mock.call_count == 4
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential: 1-2 s, then 4-5 s


def test_each_retry_is_logged_with_its_reason(hook, requests_mock, log_text):
    requests_mock.get(
        JOB_URL, [atlas_error(503, "SERVICE_UNAVAILABLE", "down"), {"status_code": 200, "json": {}}]
    )

    hook.get_restore_job(CLUSTER, JOB_ID)

    output = log_text()
    assert "attempt 1 of 5 failed" in output
    assert "SERVICE_UNAVAILABLE" in output


def test_connection_errors_are_retried_then_raise_a_clear_error(hook, requests_mock, sleeps):
    requests_mock.get(
        JOB_URL, exc=requests.exceptions.ConnectionError("[Errno 104] Connection reset by peer")
    )

    with pytest.raises(AtlasTransportError, match="Connection reset by peer") as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert caught.value.status is None
    assert requests_mock.call_count == 5
    assert len(sleeps) == 4


def test_read_timeout_is_retried_and_named(hook, requests_mock):
    requests_mock.get(JOB_URL, [{"exc": requests.exceptions.ReadTimeout("boom")}, {"json": {"id": JOB_ID}}])

    assert hook.get_restore_job(CLUSTER, JOB_ID)["id"] == JOB_ID


def test_retry_budget_is_configurable_by_connection_extras(monkeypatch, requests_mock, sleeps):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from tests.conftest import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_TWO", connection_json(extra={"retry_max_attempts": 2}))
    requests_mock.get(JOB_URL, status_code=503, json={"error": 503, "errorCode": "SERVICE_UNAVAILABLE"})
    hook = AtlasHook("atlas_two")
    hook.sleep = sleeps.append

    with pytest.raises(AtlasApiError, match="SERVICE_UNAVAILABLE"):
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert requests_mock.call_count == 2


def test_total_wait_budget_stops_retries_before_a_long_retry_after(hook, requests_mock, sleeps):
    requests_mock.get(JOB_URL, status_code=429, json={"error": 429}, headers={"Retry-After": "3600"})

    with pytest.raises(AtlasApiError) as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert caught.value.retry_after == 3600
    assert sleeps == []  # waiting an hour is past the 300 s budget
    assert requests_mock.call_count == 1


def test_hook_arguments_override_retry_settings(atlas_connection, requests_mock, sleeps):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    requests_mock.get(JOB_URL, status_code=500, json={"error": 500})
    hook = AtlasHook(atlas_connection, retry_max_attempts=3, retry_initial_wait=0.5, retry_max_wait=0.5)
    hook.sleep = sleeps.append

    with pytest.raises(AtlasApiError):
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert requests_mock.call_count == 3
    assert all(0.5 <= wait <= 1.0 for wait in sleeps)


def test_success_with_a_body_that_is_not_json_raises_a_response_error(hook, requests_mock):
    requests_mock.get(JOB_URL, status_code=200, text='{"id": "6a79')

    with pytest.raises(AtlasResponseError, match="not valid JSON"):
        hook.get_restore_job(CLUSTER, JOB_ID)


def test_success_with_a_list_where_an_object_belongs_raises_a_response_error(hook, requests_mock):
    requests_mock.get(JOB_URL, status_code=200, json=[1, 2])

    with pytest.raises(AtlasResponseError, match="expected a JSON object"):
        hook.get_restore_job(CLUSTER, JOB_ID)


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda h: h.get_restore_job(CLUSTER, "not-an-id"), "restore_job_id"),
        (lambda h: h.get_restore_job(CLUSTER, JOB_ID.upper()), "restore_job_id"),
        (lambda h: h.get_restore_job("-bad", JOB_ID), "cluster_name"),
        (lambda h: h.get_restore_job("has space", JOB_ID), "cluster_name"),
        (lambda h: h.get_restore_job(CLUSTER, JOB_ID, group_id="123"), "group_id"),
        (lambda h: h.get_restore_jobs_page(CLUSTER, items_per_page=501), "items_per_page"),
        (lambda h: h.get_restore_jobs_page(CLUSTER, items_per_page=0), "items_per_page"),
        (lambda h: h.get_restore_jobs_page(CLUSTER, page_num=0), "page_num"),
        (lambda h: h.list_restore_jobs(CLUSTER, page_size=1000), "items_per_page"),
        (lambda h: h.list_restore_jobs(CLUSTER, max_items=-1), "max_items"),
        (lambda h: h.iter_restore_jobs("a/b"), "cluster_name"),
    ],
)
def test_bad_input_is_refused_before_any_request(hook, requests_mock, call, parameter):
    with pytest.raises(AtlasInputError, match=parameter) as caught:
        call(hook)

    assert "must" in str(caught.value)  # the rule is stated
    assert requests_mock.call_count == 0


def test_missing_group_id_says_where_to_set_it(monkeypatch, requests_mock):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_NO_GROUP", '{"conn_type": "mongodb_atlas", "login": "p", "password": "private-k"}'
    )

    with pytest.raises(AtlasInputError, match="pass group_id, or set the group_id extra"):
        AtlasHook("no_group").get_restore_job(CLUSTER, JOB_ID)
    assert requests_mock.call_count == 0


def test_connection_without_credentials_is_refused(monkeypatch):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    monkeypatch.setenv("AIRFLOW_CONN_NO_KEYS", '{"conn_type": "mongodb_atlas"}')

    with pytest.raises(AtlasInputError, match="login to the Atlas API public key"):
        AtlasHook("no_keys").get_conn()


def test_no_error_message_contains_the_private_key(hook, requests_mock):
    requests_mock.get(JOB_URL, exc=requests.exceptions.ConnectionError(f"boom {PRIVATE_KEY}"))

    with pytest.raises(AtlasTransportError) as caught:
        hook.get_restore_job(CLUSTER, JOB_ID)

    assert PRIVATE_KEY not in str(caught.value)
    assert PRIVATE_KEY not in repr(caught.value.__dict__)


def test_plain_http_to_a_remote_host_is_refused_before_any_request(monkeypatch, requests_mock):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    requests_mock.get(requests_mock_module.ANY, json={"id": JOB_ID})
    monkeypatch.setenv("AIRFLOW_CONN_PLAIN_HTTP", connection_json(extra={"scheme": "http"}))

    with pytest.raises(AtlasInputError, match=r"'http' is not allowed for host 'atlas\.example\.invalid'"):
        AtlasHook("plain_http").get_restore_job(CLUSTER, JOB_ID)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ContentDecodingError("garbled"),
        requests.exceptions.RequestException("anything else"),
        requests.exceptions.InvalidURL("bad url"),
    ],
)
def test_every_requests_exception_becomes_an_atlas_error(hook, requests_mock, error):
    requests_mock.get(JOB_URL, exc=error)

    with pytest.raises(AtlasApiError, match=f"GET {JOB_URL.split('invalid', 1)[1]} failed"):
        hook.get_restore_job(CLUSTER, JOB_ID)
