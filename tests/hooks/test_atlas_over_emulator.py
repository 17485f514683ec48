"""AtlasHook over real sockets against the emulator: auth, paging, faults and errors."""

from __future__ import annotations

import json

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasTransportError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook


@pytest.fixture
def hook(emulator_connection, sleeps):
    atlas_hook = AtlasHook(emulator_connection)
    atlas_hook.sleep = sleeps.append
    yield atlas_hook
    atlas_hook.close()


@pytest.fixture
def many_jobs(atlas_emulator):
    seed = atlas_emulator.seed
    return atlas_emulator.add_restore_jobs(seed.group_id, seed.cluster_name, count=1234)


def listed_ids(hook, **arguments):
    return [job["id"] for job in hook.list_restore_jobs("Cluster0", **arguments)]


def test_1234_jobs_are_listed_once_each_in_three_pages(hook, atlas_emulator, many_jobs):
    ids = listed_ids(hook)

    assert sorted(ids) == sorted(many_jobs)
    assert len(ids) == len(set(ids)) == 1234
    assert atlas_emulator.stats.count(route="list_restore_jobs", status=200) == 3
    assert atlas_emulator.stats.challenges == 1


def test_warm_hook_sends_one_request_per_call(hook, atlas_emulator):
    seed = atlas_emulator.seed
    job_id = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name)["id"]
    hook.get_project()
    atlas_emulator.stats.reset()

    for _ in range(10):
        hook.get_restore_job("Cluster0", job_id)

    assert atlas_emulator.stats.count() == 10
    assert atlas_emulator.stats.challenges == 0


def test_job_created_mid_paging_does_not_duplicate_or_lose_jobs(hook, atlas_emulator, many_jobs):
    atlas_emulator.faults.add(route="list_restore_jobs", kind="insert_job", skip=1, count=1)

    ids = listed_ids(hook)

    assert len(ids) == len(set(ids))
    assert set(many_jobs) <= set(ids)


def test_expired_nonce_is_renewed_with_one_challenge(hook, atlas_emulator):
    hook.get_project()
    atlas_emulator.clock.advance(atlas_emulator.nonce_ttl + 1)

    hook.get_project()

    assert atlas_emulator.stats.challenges == 2
    assert atlas_emulator.stats.count(route="get_project", status=401) == 2


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "retry_after": 3},
        {"kind": "html", "status": 500},
        {"kind": "html", "status": 502},
        {"kind": "status", "status": 503},
        {"kind": "reset"},
    ],
    ids=["429", "500 html", "502 html", "503", "connection reset"],
)
def test_injected_fault_is_retried_until_success(hook, atlas_emulator, sleeps, fault):
    hook.get_project()  # warm: the fault then hits an authorised request
    atlas_emulator.faults.add(route="get_project", count=2, **fault)

    assert hook.get_project()["id"] == atlas_emulator.seed.group_id
    assert len(sleeps) == 2
    if "retry_after" in fault:
        assert min(sleeps) >= 3


def test_answer_slower_than_the_read_timeout_is_retried(atlas_emulator, monkeypatch, sleeps):
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    connection["extra"]["timeout"] = 0.2
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_SHORT_TIMEOUT", json.dumps(connection))
    hook = AtlasHook("atlas_short_timeout")
    hook.sleep = sleeps.append
    atlas_emulator.faults.add(route="get_project", kind="delay", seconds=1.0, count=1)

    assert hook.get_project()["id"] == atlas_emulator.seed.group_id
    assert len(sleeps) == 1


def test_retry_budget_spent_raises_the_last_error(hook, atlas_emulator):
    atlas_emulator.faults.add(route="get_project", kind="reset", count=None)

    with pytest.raises(AtlasTransportError, match="no answer"):
        hook.get_project()


def test_wrong_private_key_gets_401_with_advice(atlas_emulator, monkeypatch):
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_WRONG", json.dumps({**connection, "password": "not-the-key"}))

    ok, message = AtlasHook("atlas_wrong").test_connection()

    assert not ok
    assert "401" in message
    assert "Check the key pair" in message


def test_ip_access_list_refusal_says_to_add_the_address(hook, atlas_emulator):
    atlas_emulator.ip_access_denied = True

    with pytest.raises(AtlasApiError, match="Add this worker's public IP address") as caught:
        hook.get_project()
    assert caught.value.error_code == "IP_ADDRESS_NOT_ON_ACCESS_LIST"


def test_unknown_cluster_is_cluster_not_found(hook):
    with pytest.raises(AtlasApiError, match="CLUSTER_NOT_FOUND") as caught:
        hook.list_restore_jobs("NoSuchCluster")
    assert caught.value.status == 404


def test_v1_api_lists_the_same_jobs(hook, atlas_emulator, emulator_connection):
    seed = atlas_emulator.seed
    atlas_emulator.add_restore_jobs(seed.group_id, seed.cluster_name, count=7)

    v1 = AtlasHook(emulator_connection, api_version="v1.0")

    assert [j["id"] for j in v1.list_restore_jobs("Cluster0")] == listed_ids(hook)


def test_enveloped_page_over_the_wire_is_unwrapped(hook, atlas_emulator):
    seed = atlas_emulator.seed
    atlas_emulator.add_restore_jobs(seed.group_id, seed.cluster_name, count=3)

    page = hook.get_restore_jobs_page("Cluster0", envelope=True, pretty=True, items_per_page=2)

    assert "status" not in page.raw
    assert len(page.results) == 2
    assert page.total_count == 3
    assert page.has_next is True


def test_job_removed_mid_paging_does_not_hide_another(hook, atlas_emulator, many_jobs):
    atlas_emulator.faults.add(route="list_restore_jobs", kind="remove_job", skip=1, count=1)

    ids = listed_ids(hook)
    seed = atlas_emulator.seed
    remaining = {job["id"] for job in hook.list_restore_jobs(seed.cluster_name)}

    assert len(ids) == len(set(ids))
    assert remaining <= set(ids)  # every job still on the server was listed
