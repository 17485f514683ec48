"""
The fault matrix of docs/reliability.md: each fault injected by the emulator over real sockets,
against listing (hook), waiting (sensor poke and deferred trigger) and downloading (operator).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor
from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

#: Faults a later attempt cures, as the emulator injects them.
TRANSIENT = {
    "429 with Retry-After": {"kind": "status", "status": 429, "retry_after": 2},
    "500 with an HTML body": {"kind": "html", "status": 500},
    "502": {"kind": "html", "status": 502},
    "503": {"kind": "status", "status": 503},
    "connection reset": {"kind": "reset"},
    "read timeout": {"kind": "delay", "seconds": 0.6},
}


@pytest.fixture
def connect(atlas_emulator, monkeypatch):
    """Set the default connection to the emulator, with a short read timeout and quick retries."""

    def apply(**changes: Any) -> dict[str, Any]:
        connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
        connection["extra"].update(
            {"timeout": 0.3, "retry_initial_wait": 0.01, "retry_max_wait": 0.05, "allow_http_downloads": True}
        )
        connection.update(changes)
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
        return connection

    apply()
    return apply


@pytest.fixture
def hook(connect, sleeps):
    atlas_hook = AtlasHook()
    atlas_hook.sleep = sleeps.append
    return atlas_hook


@pytest.fixture
def server_jobs(atlas_emulator) -> set[str]:
    seed = atlas_emulator.seed
    return set(atlas_emulator.add_restore_jobs(seed.group_id, seed.cluster_name, count=1234))


def listed(hook: AtlasHook) -> list[str]:
    return [job["id"] for job in hook.list_restore_jobs("Cluster0")]


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_listing_returns_exactly_the_server_jobs_through_a_transient_fault(
    hook, atlas_emulator, server_jobs, fault
):
    atlas_emulator.faults.add(route="list_restore_jobs", skip=1, count=2, **fault)

    ids = listed(hook)

    assert len(ids) == len(set(ids))
    assert set(ids) == server_jobs


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_listing_raises_a_clear_error_once_the_retry_budget_is_spent(
    hook, atlas_emulator, server_jobs, sleeps, fault
):
    atlas_emulator.faults.add(route="list_restore_jobs", skip=1, count=None, **fault)

    with pytest.raises(AtlasApiError, match=r"Atlas API GET /api/atlas/v2/groups/.*/restoreJobs failed"):
        listed(hook)
    assert len(sleeps) == 4  # five attempts at page 2, then the error


def test_listing_survives_an_expired_nonce(hook, atlas_emulator, server_jobs):
    hook.get_project()
    atlas_emulator.clock.advance(atlas_emulator.nonce_ttl + 1)

    assert set(listed(hook)) == server_jobs
    assert atlas_emulator.stats.challenges == 2


def test_listing_survives_an_expired_bearer_token(atlas_emulator, connect, server_jobs):
    client_id, secret = atlas_emulator.add_service_account()
    connection = connect(login=client_id, password=secret)
    connection["extra"]["auth_type"] = "service_account"
    connect(**connection)
    hook = AtlasHook()
    hook.get_project()
    atlas_emulator.accounts.revoke_tokens()

    assert set(listed(hook)) == server_jobs
    assert atlas_emulator.stats.count(route="oauth_token", status=200) == 2


@pytest.mark.parametrize("kind", ["insert_job", "remove_job"])
def test_listing_holds_every_job_once_when_jobs_change_mid_paging(hook, atlas_emulator, server_jobs, kind):
    atlas_emulator.faults.add(route="list_restore_jobs", kind=kind, skip=1, count=1)

    ids = listed(hook)

    on_server = set(listed(AtlasHook()))
    assert len(ids) == len(set(ids))
    assert server_jobs & on_server <= set(ids)  # no job there from start to end was missed
    assert set(ids) <= server_jobs | on_server  # nothing invented


def pending_job(emulator) -> str:
    seed = emulator.seed
    return emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=3600)["id"]


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_sensor_poke_survives_a_transient_fault(connect, atlas_emulator, fault):
    sensor = AtlasRestoreJobSensor(
        task_id="wait", cluster_name="Cluster0", restore_job_id=pending_job(atlas_emulator), deferrable=False
    )
    sensor.hook.sleep = lambda seconds: None
    atlas_emulator.faults.add(route="get_restore_job", count=None, **fault)

    assert sensor.poke({}) is False  # not done, and not failed: the next poke tries again

    atlas_emulator.faults.clear()
    atlas_emulator.clock.advance(3600)
    assert sensor.poke({}).is_done


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_trigger_survives_a_transient_fault(connect, atlas_emulator, fault):
    seed = atlas_emulator.seed
    job_id = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0)["id"]
    atlas_emulator.faults.add(route="get_restore_job", count=2, **fault)
    trigger = AtlasRestoreJobTrigger(
        atlas_conn_id="mongodb_atlas_default",
        group_id=seed.group_id,
        cluster_name=seed.cluster_name,
        restore_job_id=job_id,
        poll_interval=0.01,
        timeout_at=time.time() + 30,
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    assert asyncio.run(asyncio.wait_for(first_event(), 30))["status"] == "success"


def ready_download(emulator, size: int) -> dict[str, Any]:
    seed = emulator.seed
    job = emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0, download_size=size)
    return {
        "restore_job_id": job["id"],
        "cluster_name": seed.cluster_name,
        "group_id": seed.group_id,
        "delivery_urls": emulator.download_urls(seed.group_id, seed.cluster_name, job["id"]),
        "components": [],
    }


def download(restore_job: dict[str, Any], destination: Path) -> list[dict[str, Any]]:
    operator = AtlasDownloadSnapshotOperator(
        task_id="download", restore_job=restore_job, destination=str(destination), retry_initial_wait=0.01
    )
    operator.sleep = lambda seconds: None
    return operator.execute({})


def test_download_cut_short_resumes_and_sends_little_twice(connect, atlas_emulator, tmp_path):
    size = 4 << 20
    atlas_emulator.faults.add(route="download", kind="cut", after_bytes=int(size * 0.9), count=1)

    (entry,) = download(ready_download(atlas_emulator, size), tmp_path)

    path = Path(entry["path"])
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["bytes"] == path.stat().st_size
    assert atlas_emulator.stats.count(route="download") == 2


@pytest.mark.parametrize("act", ["expire_job", "used_link"])
def test_expired_or_used_download_link_fails_leaving_nothing(connect, atlas_emulator, tmp_path, act):
    restore_job = ready_download(atlas_emulator, 64 << 10)
    seed = atlas_emulator.seed
    if act == "expire_job":
        atlas_emulator.expire_job(seed.group_id, seed.cluster_name, restore_job["restore_job_id"])
    else:
        download(restore_job, tmp_path / "first")  # single-use: the link is spent

    with pytest.raises(Exception, match=r"no longer valid|expired|gone|410|404"):
        download(restore_job, tmp_path / "second")
    assert not any((tmp_path / "second").glob("*.tar.gz"))
    assert not any(p.name.endswith(".part") for p in (tmp_path / "second").rglob("*"))
