"""AtlasHook: Digest authentication, media types, connection settings (requests-mock)."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from tests.conftest import GROUP_ID, JOB_ID, PRIVATE_KEY, PUBLIC_KEY, connection_json, jobs_url

CHALLENGE = (
    'Digest realm="MMS Public API", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale={stale}'
)
UNAUTHORIZED = {"reason": "Unauthorized", "error": 401, "detail": "You are not authorized for this resource."}


def challenge(nonce: str = "nonce-1", stale: bool = False) -> dict[str, object]:
    return {
        "status_code": 401,
        "json": UNAUTHORIZED,
        "headers": {"WWW-Authenticate": CHALLENGE.format(nonce=nonce, stale=str(stale).lower())},
    }


def job_answer() -> dict[str, object]:
    return {"status_code": 200, "json": {"id": JOB_ID, "deliveryType": "download", "deliveryUrl": []}}


def test_first_call_answers_one_digest_challenge_then_later_calls_are_preauthorised(hook, requests_mock):
    url = f"{jobs_url()}/{JOB_ID}"
    requests_mock.get(url, [challenge(), job_answer(), job_answer(), job_answer()])

    for _ in range(3):
        assert hook.get_restore_job("backupRestores-305", JOB_ID)["id"] == JOB_ID

    history = requests_mock.request_history
    assert len(history) == 4  # one challenge, then exactly one request per call
    assert "Authorization" not in history[0].headers
    for request in history[1:]:
        assert request.headers["Authorization"].startswith(f'Digest username="{PUBLIC_KEY}"')
        assert 'nonce="nonce-1"' in request.headers["Authorization"]
    assert [r.headers["Authorization"].split("nc=")[1][:8] for r in history[1:]] == [
        "00000001",
        "00000002",
        "00000003",
    ]


def test_stale_nonce_gets_one_fresh_challenge_not_an_error(hook, requests_mock):
    url = f"{jobs_url()}/{JOB_ID}"
    requests_mock.get(url, [challenge("old"), job_answer(), challenge("new", stale=True), job_answer()])

    hook.get_restore_job("backupRestores-305", JOB_ID)
    assert hook.get_restore_job("backupRestores-305", JOB_ID)["id"] == JOB_ID

    history = requests_mock.request_history
    assert len(history) == 4
    assert 'nonce="old"' in history[2].headers["Authorization"]
    assert 'nonce="new"' in history[3].headers["Authorization"]


def test_wrong_keys_raise_a_401_error_that_says_to_check_the_key_pair(hook, requests_mock):
    from airflow_provider_atlas_restore.exceptions import AtlasApiError

    requests_mock.get(f"{jobs_url()}/{JOB_ID}", [challenge(), challenge()])

    with pytest.raises(AtlasApiError, match="Check the key pair") as caught:
        hook.get_restore_job("backupRestores-305", JOB_ID)

    assert caught.value.status == 401
    assert PRIVATE_KEY not in str(caught.value)
    assert len(requests_mock.request_history) == 2  # no retry of a 401


def test_v2_sends_the_versioned_media_type(hook, requests_mock):
    requests_mock.get(f"{jobs_url()}/{JOB_ID}", **job_answer())

    hook.get_restore_job("backupRestores-305", JOB_ID)

    assert requests_mock.last_request.headers["Accept"] == "application/vnd.atlas.2023-01-01+json"


def test_v1_connection_uses_the_v1_path_and_plain_json(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_V1", connection_json(extra={"api_version": "v1.0"}))
    requests_mock.get(f"{jobs_url(version='v1.0')}/{JOB_ID}", **job_answer())

    AtlasHook("atlas_v1").get_restore_job("backupRestores-305", JOB_ID)

    assert requests_mock.last_request.headers["Accept"] == "application/json"


def test_hook_argument_overrides_the_connection_api_version(atlas_connection, requests_mock):
    requests_mock.get(f"{jobs_url(version='v1.0')}/{JOB_ID}", **job_answer())

    AtlasHook(atlas_connection, api_version="v1.0").get_restore_job("backupRestores-305", JOB_ID)

    assert requests_mock.call_count == 1


def test_connection_host_port_and_scheme_make_the_base_url(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_LOCAL",
        connection_json(host="127.0.0.1", port=8123, extra={"scheme": "http"}),
    )
    url = f"http://127.0.0.1:8123/api/atlas/v2/groups/{GROUP_ID}/clusters/c1/backup/restoreJobs/{JOB_ID}"
    requests_mock.get(url, **job_answer())

    AtlasHook("atlas_local").get_restore_job("c1", JOB_ID)

    assert requests_mock.call_count == 1


def test_default_host_is_atlas_over_https(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_DEFAULT_HOST",
        '{"conn_type": "mongodb_atlas", "login": "pub", "password": "secret-key"}',
    )

    assert AtlasHook("atlas_default_host").config.base_url == "https://cloud.mongodb.com"


def test_uri_form_connection_extras_are_read(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_URI",
        f"mongodb-atlas://pub:secret-key@127.0.0.1:9000/?scheme=http&group_id={GROUP_ID}"
        "&api_version=v1.0&timeout=5&verify=false&retry_max_attempts=2",
    )

    config = AtlasHook("atlas_uri").config

    assert config.base_url == "http://127.0.0.1:9000"
    assert (config.group_id, config.api_version, config.read_timeout) == (GROUP_ID, "v1.0", 5.0)
    assert config.verify is False
    assert config.retry.max_attempts == 2


def test_default_timeouts_are_10s_connect_and_60s_read(hook, requests_mock):
    requests_mock.get(f"{jobs_url()}/{JOB_ID}", **job_answer())

    hook.get_restore_job("backupRestores-305", JOB_ID)

    assert requests_mock.last_request.timeout == (10.0, 60.0)


def test_private_key_is_not_in_the_config_repr(hook):
    assert PRIVATE_KEY not in repr(hook.config)
