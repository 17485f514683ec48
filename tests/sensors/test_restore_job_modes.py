"""AtlasRestoreJobSensor run by Airflow (dag.test) in poke and reschedule mode against the emulator."""

from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.dag_runs import run_dag
from airflow_provider_atlas_restore.testing.seeding import seed_basic
from tests.conftest import TEST_DAGS


@pytest.fixture
def live_emulator(monkeypatch):
    """An emulator on a manual clock, with the default connection pointing at it."""
    with AtlasEmulator(clock=ManualClock()) as emulator:
        seed = seed_basic(emulator)
        monkeypatch.setenv(
            "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(emulator.connection(group_id=seed.group_id))
        )
        yield emulator


def advance_after_first_poke(emulator: AtlasEmulator, seconds: float) -> None:
    """Move the emulator's clock once the sensor has seen the job pending."""
    deadline = time.monotonic() + 60
    while emulator.stats.count(route="get_restore_job", status=200) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    emulator.clock.advance(seconds)


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_sensor_waits_until_links_are_ready_then_returns_the_job_without_them(
    airflow_database, live_emulator, mode
):
    seed = live_emulator.seed
    job = live_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=60)
    ready_after_first_poke = threading.Thread(target=advance_after_first_poke, args=(live_emulator, 60))
    ready_after_first_poke.start()

    result = run_dag(TEST_DAGS, f"test_atlas_wait_for_restore_{mode}", {"job_id": job["id"]})
    ready_after_first_poke.join()

    assert result.state == "success", result.task_states
    assert result.xcom["wait"]["restore_job_id"] == job["id"]
    assert result.xcom["wait"]["state"] == "ready"
    assert result.xcom["wait"]["delivery_urls"] == ["***"]  # links stay out of XCom by default
    assert live_emulator.stats.count(route="get_restore_job", status=200) >= 2


def test_sensor_fails_the_task_at_once_on_a_failed_job(airflow_database, live_emulator):
    seed = live_emulator.seed
    job = live_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=600)
    live_emulator.fail_job(seed.group_id, seed.cluster_name, job["id"])

    result = run_dag(TEST_DAGS, "test_atlas_wait_for_restore_poke", {"job_id": job["id"]})

    assert result.task_states["wait"] == "failed"
    assert live_emulator.stats.count(route="get_restore_job", status=200) == 1


def test_deferrable_sensor_works_with_a_service_account(airflow_database, live_emulator, monkeypatch):
    seed = live_emulator.seed
    client_id, secret = live_emulator.add_service_account()
    connection = live_emulator.connection(group_id=seed.group_id)
    connection.update(login=client_id, password=secret)
    connection["extra"]["auth_type"] = "service_account"
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
    job = live_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=60)
    ready_after_first_poke = threading.Thread(target=advance_after_first_poke, args=(live_emulator, 60))
    ready_after_first_poke.start()

    result = run_dag(TEST_DAGS, "test_atlas_wait_for_restore_deferrable", {"job_id": job["id"]})
    ready_after_first_poke.join()

    assert result.state == "success", result.task_states
    assert result.xcom["wait"]["state"] == "ready"
    assert live_emulator.stats.challenges == 0  # bearer tokens only, no Digest
    assert live_emulator.stats.count(route="oauth_token", status=200) >= 1
