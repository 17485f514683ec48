"""AtlasHook's operations for tasks that wait: find the jobs of a request, adopt one, wait, cancel if pending."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.hooks.restore_job_waits import (
    earliest_start_of_earlier_tries,
    restore_job_created_at,
    same_request,
)
from airflow_provider_atlas_restore.models import RestoreJobState, WaitStatus

TARGET = "Target0"


@pytest.fixture
def emulator_hook(atlas_emulator, emulator_connection):
    """A hook on the emulator whose retry waits are not slept."""
    atlas_emulator.add_cluster(atlas_emulator.seed.group_id, TARGET)
    hook = AtlasHook()
    hook.sleep = lambda seconds: None
    yield hook
    hook.close()


def moment(emulator) -> datetime:
    return datetime.fromtimestamp(emulator.clock.now(), tz=timezone.utc)


def add_job(emulator, delivery_type="download", **arguments) -> str:
    seed = emulator.seed
    if delivery_type != "download":
        arguments = {"target_cluster_name": TARGET, "target_group_id": seed.group_id, **arguments}
    return emulator.add_restore_job(seed.group_id, "Cluster0", delivery_type, ready_after=600, **arguments)[
        "id"
    ]


def download_of(snapshot_id: str) -> RestoreJobSpec:
    return RestoreJobSpec("download", snapshot_id=snapshot_id)


def test_jobs_of_the_same_request_created_since_the_moment_are_found_newest_first(
    atlas_emulator, emulator_hook
):
    newest, older = atlas_emulator.seed.snapshot_ids[:2]
    add_job(atlas_emulator, snapshot_id=newest)  # before the moment
    atlas_emulator.clock.advance(600)
    since = moment(atlas_emulator)
    first = add_job(atlas_emulator, snapshot_id=newest)
    add_job(atlas_emulator, snapshot_id=older)  # another snapshot
    add_job(atlas_emulator, "automated", snapshot_id=newest)  # another delivery type
    atlas_emulator.clock.advance(5)
    second = add_job(atlas_emulator, snapshot_id=newest)

    found = emulator_hook.find_restore_jobs("Cluster0", download_of(newest), created_since=since)

    assert [job["id"] for job in found] == [second, first]


def test_a_request_of_the_latest_snapshot_matches_jobs_of_any_snapshot(atlas_emulator, emulator_hook):
    older = atlas_emulator.seed.snapshot_ids[1]
    since = moment(atlas_emulator)
    job_id = add_job(atlas_emulator, snapshot_id=older)
    newer = atlas_emulator.add_snapshot(atlas_emulator.seed.group_id, "Cluster0")["id"]

    exact = emulator_hook.find_restore_jobs("Cluster0", download_of(newer), created_since=since)
    latest = emulator_hook.find_restore_jobs(
        "Cluster0", download_of(newer), created_since=since, any_snapshot=True
    )

    assert (exact, [job["id"] for job in latest]) == ([], [job_id])


@pytest.mark.parametrize(
    ("asked", "other"),
    [
        ({"point_in_time_utc_seconds": 1_786_000_000}, {"target_cluster_name": "Cluster0"}),
        ({"point_in_time_utc_seconds": 1_786_000_000}, {"point_in_time_utc_seconds": 1_786_000_001}),
        ({"oplog_ts": 1_786_000_000, "oplog_inc": 2}, {"oplog_inc": 3}),
    ],
    ids=["another target", "another moment", "another oplog position"],
)
def test_an_overwriting_restore_to_another_target_or_moment_is_another_request(
    atlas_emulator, emulator_hook, asked, other
):
    since = moment(atlas_emulator)
    group_id = atlas_emulator.seed.group_id
    same = add_job(atlas_emulator, "pointInTime", **asked)
    add_job(atlas_emulator, "pointInTime", **{**asked, **other})
    spec = RestoreJobSpec("pointInTime", target_cluster_name=TARGET, target_group_id=group_id, **asked)

    found = emulator_hook.find_restore_jobs("Cluster0", spec, created_since=since)

    assert [job["id"] for job in found] == [same]


def test_the_listing_stops_after_a_page_of_jobs_older_than_the_moment(atlas_emulator, emulator_hook):
    seed = atlas_emulator.seed
    atlas_emulator.add_restore_jobs(seed.group_id, "Cluster0", 450, ready_after=600)
    atlas_emulator.clock.advance(600)
    since = moment(atlas_emulator)
    job_id = add_job(atlas_emulator, snapshot_id=seed.snapshot_id)

    found = emulator_hook.find_restore_jobs("Cluster0", download_of(seed.snapshot_id), created_since=since)

    assert [job["id"] for job in found] == [job_id]
    assert atlas_emulator.stats.count(route="list_restore_jobs", status=200) == 2  # of 5 pages


@pytest.mark.parametrize("end", ["fail_job", "cancel_job", "expire_job"])
def test_the_job_to_adopt_is_the_newest_one_that_did_not_end_badly(atlas_emulator, emulator_hook, end):
    seed = atlas_emulator.seed
    since = moment(atlas_emulator)
    pending = add_job(atlas_emulator, snapshot_id=seed.snapshot_id)
    atlas_emulator.clock.advance(1)
    ended = add_job(atlas_emulator, snapshot_id=seed.snapshot_id)
    getattr(atlas_emulator, end)(seed.group_id, "Cluster0", ended)

    job, outcome = emulator_hook.find_restore_job_to_adopt(
        "Cluster0", download_of(seed.snapshot_id), created_since=since
    )

    assert (job["id"], outcome.status) == (pending, WaitStatus.PENDING)


def test_nothing_is_adopted_when_every_job_of_the_request_ended_badly(atlas_emulator, emulator_hook):
    seed = atlas_emulator.seed
    since = moment(atlas_emulator)
    atlas_emulator.fail_job(seed.group_id, "Cluster0", add_job(atlas_emulator, snapshot_id=seed.snapshot_id))

    assert (
        emulator_hook.find_restore_job_to_adopt(
            "Cluster0", download_of(seed.snapshot_id), created_since=since
        )
        is None
    )


def test_creation_time_is_created_at_when_sent_else_the_seconds_in_the_object_id():
    assert restore_job_created_at({"id": "6a7948342c88faeba59eb866"}) == datetime.fromtimestamp(
        0x6A794834, tz=timezone.utc
    )
    assert restore_job_created_at(
        {"id": "6a7948342c88faeba59eb866", "createdAt": "2026-08-10T03:40:00Z"}
    ) == datetime(2026, 8, 10, 3, 40, tzinfo=timezone.utc)
    assert restore_job_created_at({"id": "not-an-object-id"}) is None


def test_a_job_of_another_kind_is_never_the_same_request():
    job = {"deliveryType": "automated", "snapshotId": "6a79468a2c88faeba59de489"}

    assert not same_request(job, download_of("6a79468a2c88faeba59de489"), any_snapshot=True)


def test_earlier_tries_are_looked_for_from_the_dag_runs_start_less_a_minute():
    started = datetime(2026, 8, 10, 3, 0, tzinfo=timezone.utc)

    assert earliest_start_of_earlier_tries(1, started) is None
    assert earliest_start_of_earlier_tries(2, started) == started - timedelta(seconds=60)
    assert earliest_start_of_earlier_tries(3, started.replace(tzinfo=None)) == started - timedelta(seconds=60)
    assert earliest_start_of_earlier_tries(2, None) is None
    assert earliest_start_of_earlier_tries(None, started) is None


def test_waiting_goes_on_past_looks_without_a_usable_answer(atlas_emulator, emulator_hook, log_text):
    job_id = add_job(atlas_emulator, snapshot_id=atlas_emulator.seed.snapshot_id)
    atlas_emulator.faults.add(route="get_restore_job", kind="status", status=503, count=5)  # one look's tries
    looks: list[float] = []

    def sleep_then_finish(seconds):
        looks.append(seconds)
        atlas_emulator.finish_job(atlas_emulator.seed.group_id, "Cluster0", job_id)

    outcome, job = emulator_hook.wait_for_restore_job(
        "Cluster0", job_id, poll_interval=7, timeout=3600, sleep=sleep_then_finish
    )

    assert (outcome.status, outcome.state, job["id"]) == (WaitStatus.DONE, RestoreJobState.READY, job_id)
    assert looks == [7]
    assert "no usable answer this time, trying again later" in log_text()


def test_a_timeout_of_zero_looks_once(atlas_emulator, emulator_hook):
    job_id = add_job(atlas_emulator, snapshot_id=atlas_emulator.seed.snapshot_id)

    outcome, job = emulator_hook.wait_for_restore_job(
        "Cluster0", job_id, poll_interval=7, timeout=0, sleep=pytest.fail
    )

    assert (outcome.status, job["id"]) == (WaitStatus.PENDING, job_id)
    assert atlas_emulator.stats.count(route="get_restore_job", status=200) == 1


def test_waiting_for_a_job_that_does_not_exist_raises(atlas_emulator, emulator_hook):
    with pytest.raises(AtlasApiError) as caught:
        emulator_hook.wait_for_restore_job(
            "Cluster0", "6a7948342c88faeba59eb866", poll_interval=1, timeout=60
        )

    assert caught.value.status == 404


def test_only_a_pending_job_is_cancelled(atlas_emulator, emulator_hook):
    seed = atlas_emulator.seed
    pending = add_job(atlas_emulator, snapshot_id=seed.snapshot_id)
    ready = atlas_emulator.add_restore_job(seed.group_id, "Cluster0", ready_after=0)["id"]

    assert emulator_hook.cancel_restore_job_if_pending("Cluster0", pending) is RestoreJobState.PENDING
    assert emulator_hook.cancel_restore_job_if_pending("Cluster0", ready) is RestoreJobState.READY
    assert atlas_emulator.restore_job(seed.group_id, "Cluster0", pending)["cancelled"] is True
    assert atlas_emulator.stats.count(route="cancel_restore_job", method="DELETE") == 1


def test_a_first_try_looks_for_no_earlier_job(atlas_emulator, emulator_hook):
    started = moment(atlas_emulator)
    add_job(atlas_emulator, snapshot_id=atlas_emulator.seed.snapshot_id)

    found = emulator_hook.find_restore_job_of_an_earlier_try(
        "Cluster0", download_of(atlas_emulator.seed.snapshot_id), try_number=1, dag_run_started=started
    )

    assert found is None
    assert atlas_emulator.stats.count(route="list_restore_jobs") == 0


def test_a_later_try_adopts_the_job_started_since_its_dag_run_began_and_says_so(
    atlas_emulator, emulator_hook, log_text
):
    started = moment(atlas_emulator)
    job_id = add_job(atlas_emulator, snapshot_id=atlas_emulator.seed.snapshot_id)

    found = emulator_hook.find_restore_job_of_an_earlier_try(
        "Cluster0", download_of(atlas_emulator.seed.snapshot_id), try_number=2, dag_run_started=started
    )

    assert found["id"] == job_id
    assert f"Adopting restore job {job_id} started by an earlier try of this task instance" in log_text()
