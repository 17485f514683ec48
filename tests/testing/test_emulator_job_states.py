"""``AtlasEmulator.set_job_state``: the one job mutator behind fail/cancel/expire/finish_job."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import Urls

LATER = 3600.0


@pytest.mark.parametrize(
    ("delivery_type", "state", "field"),
    [
        ("download", "failed", "failed"),
        ("download", "cancelled", "cancelled"),
        ("download", "expired", "expired"),
        ("automated", "failed", "failed"),
        ("automated", "cancelled", "cancelled"),
    ],
)
def test_set_job_state_shows_the_state_flag_in_the_next_get(
    emu: AtlasEmulator,
    seed: Seed,
    session: requests.Session,
    urls: Urls,
    delivery_type: str,
    state: str,
    field: str,
) -> None:
    job_id = emu.add_restore_job(seed.group_id, "Cluster0", delivery_type, ready_after=LATER)["id"]
    assert session.get(urls.job(job_id)).json()[field] is False
    emu.set_job_state(seed.group_id, "Cluster0", job_id, state)  # type: ignore[arg-type]
    assert session.get(urls.job(job_id)).json()[field] is True


def test_set_job_state_ready_gives_a_pending_download_job_its_urls_now(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job_id = emu.add_restore_job(seed.group_id, "Cluster0", ready_after=LATER)["id"]
    assert session.get(urls.job(job_id)).json()["deliveryUrl"] == []
    emu.set_job_state(seed.group_id, "Cluster0", job_id, "ready")
    job = session.get(urls.job(job_id)).json()
    assert job["deliveryUrl"] == emu.download_urls(seed.group_id, "Cluster0", job_id)
    assert len(job["deliveryUrl"]) == 1


def test_set_job_state_finished_gives_an_automated_job_its_finished_at(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls
) -> None:
    job_id = emu.add_restore_job(seed.group_id, "Cluster0", "automated", ready_after=LATER)["id"]
    assert "finishedAt" not in session.get(urls.job(job_id)).json()
    emu.set_job_state(seed.group_id, "Cluster0", job_id, "finished")
    assert "finishedAt" in session.get(urls.job(job_id)).json()


@pytest.mark.parametrize(
    ("delivery_type", "state"),
    [("download", "pending"), ("download", "finished"), ("automated", "ready"), ("automated", "pending")],
)
def test_set_job_state_refuses_a_state_the_job_cannot_be_put_in(
    emu: AtlasEmulator, seed: Seed, session: requests.Session, urls: Urls, delivery_type: str, state: str
) -> None:
    job_id = emu.add_restore_job(seed.group_id, "Cluster0", delivery_type, ready_after=LATER)["id"]
    before = session.get(urls.job(job_id)).json()
    with pytest.raises(ValueError, match=f"{delivery_type} restore job cannot be put in state '{state}'"):
        emu.set_job_state(seed.group_id, "Cluster0", job_id, state)  # type: ignore[arg-type]
    assert session.get(urls.job(job_id)).json() == before
