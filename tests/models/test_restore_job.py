"""RestoreJob: state derived from the fields, and lenient reading of every recorded answer."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_atlas_restore.models import RestoreJob, RestoreJobState, parse_timestamp
from tests.conftest import make_job

URL = "https://restore.example.invalid/restore.tar.gz"


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, RestoreJobState.PENDING),
        ({"deliveryUrl": [URL]}, RestoreJobState.READY),
        ({"deliveryUrl": URL}, RestoreJobState.READY),  # v1.0 documents: one string
        ({"deliveryUrl": [URL], "cancelled": True}, RestoreJobState.CANCELLED),
        ({"failed": True}, RestoreJobState.FAILED),
        ({"expired": True, "deliveryUrl": [URL]}, RestoreJobState.EXPIRED),
        (
            {"deliveryUrl": [URL], "components": [{"replicaSetName": "s0", "downloadUrl": URL}]},
            RestoreJobState.READY,
        ),
        (
            {
                "deliveryUrl": [URL],
                "components": [
                    {"replicaSetName": "s0", "downloadUrl": URL},
                    {"replicaSetName": "config", "downloadUrl": None},
                ],
            },
            RestoreJobState.PENDING,
        ),
        ({"deliveryType": "automated", "deliveryUrl": []}, RestoreJobState.PENDING),
        ({"deliveryType": "automated", "finishedAt": "2026-08-10T03:40:10Z"}, RestoreJobState.FINISHED),
        ({"deliveryType": "pointInTime", "finishedAt": 1786333210}, RestoreJobState.FINISHED),
        (
            {"deliveryType": "automated", "failed": True, "finishedAt": "2026-08-10T03:40:10Z"},
            RestoreJobState.FAILED,
        ),
    ],
)
def test_state_is_derived_from_flags_finished_at_and_links(fields, state):
    assert RestoreJob.from_api(make_job(1, **fields)).state is state


def test_only_pending_is_not_terminal_and_only_ready_or_finished_succeed():
    assert [s for s in RestoreJobState if not s.is_terminal] == [RestoreJobState.PENDING]
    assert {s for s in RestoreJobState if s.is_success} == {RestoreJobState.READY, RestoreJobState.FINISHED}


def test_missing_fields_are_tolerated():
    job = RestoreJob.from_api({})

    assert (job.id, job.delivery_type, job.snapshot_id, job.expires_at) == (None, None, None, None)
    assert job.delivery_urls == []
    assert job.components == []
    assert job.state is RestoreJobState.PENDING


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-10T04:44:52Z", datetime(2026, 8, 10, 4, 44, 52, tzinfo=timezone.utc)),
        ("2026-08-10T04:44:52.123+00:00", datetime(2026, 8, 10, 4, 44, 52, 123000, tzinfo=timezone.utc)),
        (1786337092, datetime(2026, 8, 10, 4, 44, 52, tzinfo=timezone.utc)),
        (1786337092000, datetime(2026, 8, 10, 4, 44, 52, tzinfo=timezone.utc)),
        (None, None),
        ("", None),
        ("not a date", None),
        (True, None),
        ({"date": None}, None),
    ],
)
def test_timestamps_are_read_from_iso_strings_and_epoch_integers(value, expected):
    assert parse_timestamp(value) == expected


def test_expiry_by_date_is_seen_before_atlas_sets_the_flag():
    job = RestoreJob.from_api(make_job(1, deliveryUrl=[URL], expiresAt="2026-08-10T04:44:52Z"))

    assert job.state is RestoreJobState.READY
    assert not job.is_expired_at(datetime(2026, 8, 10, 4, 0, tzinfo=timezone.utc))
    assert job.is_expired_at(datetime(2026, 8, 10, 5, 0, tzinfo=timezone.utc))


RECORDED_JOB_STATES = {
    "v2-create-automated": RestoreJobState.PENDING,
    "v2-create-download": RestoreJobState.PENDING,
    "v2-get-download-pending": RestoreJobState.PENDING,
    "v2-get-download-ready": RestoreJobState.READY,
    "v2-get-automated-finished": RestoreJobState.FINISHED,
    # Recorded while Atlas called it pending, yet it already carries finishedAt: the field wins.
    "v2-get-automated-pending": RestoreJobState.FINISHED,
}


@pytest.mark.parametrize(("name", "state"), sorted(RECORDED_JOB_STATES.items()))
def test_recorded_single_jobs_are_read_with_their_state(recorded, name, state):
    job = RestoreJob.from_api(recorded(name)["body"])

    assert job.state is state
    assert job.id is not None
    assert job.raw["desiredTimestamp"] == {"increment": None, "time": None, "date": None}
