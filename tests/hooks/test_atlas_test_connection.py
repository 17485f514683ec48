"""AtlasHook.test_connection: a real authenticated call, and failures explained in words."""

from __future__ import annotations

import requests

from tests.conftest import BASE_URL, GROUP_ID

PROJECT_URL = f"{BASE_URL}/api/atlas/v2/groups/{GROUP_ID}"


def test_success_names_the_project(hook, requests_mock):
    requests_mock.get(PROJECT_URL, json={"id": GROUP_ID, "name": "backups", "clusterCount": 1})

    ok, message = hook.test_connection()

    assert ok
    assert "backups" in message
    assert GROUP_ID in message


def test_401_says_to_check_the_key_pair(hook, requests_mock):
    requests_mock.get(PROJECT_URL, status_code=401, json={"error": 401, "reason": "Unauthorized"})

    ok, message = hook.test_connection()

    assert not ok
    assert "401" in message
    assert "Check the key pair" in message


def test_403_access_list_says_to_add_the_ip_address(hook, requests_mock, recorded):
    requests_mock.get(PROJECT_URL, status_code=403, json=recorded("v2-error-403-ip-access-list")["body"])

    ok, message = hook.test_connection()

    assert not ok
    assert "IP_ADDRESS_NOT_ON_ACCESS_LIST" in message
    assert "API access list" in message


def test_unreachable_host_fails_fast_with_the_reason(hook, requests_mock, sleeps):
    requests_mock.get(PROJECT_URL, exc=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))

    ok, message = hook.test_connection()

    assert not ok
    assert "Connection refused" in message
    assert requests_mock.call_count == 2  # one quick retry, not the task's five
    assert sum(sleeps) <= 5


def test_missing_project_id_is_explained(monkeypatch, requests_mock):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_NO_GROUP", '{"conn_type": "mongodb_atlas", "login": "p", "password": "private-k"}'
    )

    ok, message = AtlasHook("no_group").test_connection()

    assert not ok
    assert "group_id" in message
    assert requests_mock.call_count == 0
