"""AtlasHook.test_connection: a real authenticated call, and failures explained in words."""

from __future__ import annotations

import json

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


#: Airflow's Test button stores the form under a random connection id like this one.
TEMPORARY_CONN_ID = "tmp_conn_5f2b9c0e4a"


def _temporary_connection(monkeypatch, connection: dict) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{TEMPORARY_CONN_ID.upper()}", json.dumps(connection))
    return TEMPORARY_CONN_ID


def test_without_a_project_counts_the_projects_the_key_can_see(atlas_emulator, monkeypatch):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    atlas_emulator.add_project("second")
    conn_id = _temporary_connection(monkeypatch, atlas_emulator.connection())

    ok, message = AtlasHook(conn_id).test_connection()

    assert ok, message
    assert "can see 2 projects" in message
    assert "group_id" in message
    assert TEMPORARY_CONN_ID not in message
    assert atlas_emulator.stats.count("list_projects", "GET", 200) == 1
    assert atlas_emulator.stats.count("get_project") == 0


def test_without_a_project_a_service_account_counts_its_projects(atlas_emulator, monkeypatch):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    client_id, secret = atlas_emulator.add_service_account()
    connection = atlas_emulator.connection()
    connection.update(login=client_id, password=secret)
    connection["extra"]["auth_type"] = "service_account"
    conn_id = _temporary_connection(monkeypatch, connection)

    ok, message = AtlasHook(conn_id).test_connection()

    assert ok, message
    assert "can see 1 project." in message


def test_without_a_project_a_wrong_key_fails_without_naming_the_temporary_connection(
    atlas_emulator, monkeypatch
):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    conn_id = _temporary_connection(monkeypatch, {**atlas_emulator.connection(), "password": "not-the-key"})

    ok, message = AtlasHook(conn_id).test_connection()

    assert not ok
    assert "401" in message
    assert "Check the key pair" in message
    assert TEMPORARY_CONN_ID not in message


def test_a_malformed_project_id_is_explained_without_naming_the_temporary_connection(
    atlas_emulator, monkeypatch
):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    connection = atlas_emulator.connection()
    connection["extra"]["group_id"] = "not-a-project-id"
    conn_id = _temporary_connection(monkeypatch, connection)

    ok, message = AtlasHook(conn_id).test_connection()

    assert not ok
    assert "group_id" in message
    assert "not-a-project-id" in message
    assert TEMPORARY_CONN_ID not in message
    assert atlas_emulator.stats.count() == 0
