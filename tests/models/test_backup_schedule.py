"""RestoreWindow: continuous backup and the restore window, read from the cluster and its schedule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.backup_schedule import RestoreWindow

NOW = datetime(2026, 8, 10, 3, 35, 5, tzinfo=timezone.utc)


def window(pit_enabled: object = True, days: object = 7) -> RestoreWindow:
    return RestoreWindow.from_api("Cluster0", {"pitEnabled": pit_enabled}, {"restoreWindowDays": days})


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(hours=1), timedelta(days=7)])
def test_a_moment_inside_the_window_passes(ago):
    window().check(seconds(NOW - ago), "point_in_time_utc_seconds", NOW)


def test_a_moment_before_the_window_is_refused_with_the_window_in_the_message():
    with pytest.raises(AtlasInputError) as refused:
        window(days=2).check(seconds(NOW - timedelta(days=2, seconds=1)), "oplog_ts", NOW)

    message = str(refused.value)
    assert "oplog_ts=" in message
    assert "before its start" in message
    assert "the last 2 days, from 2026-08-08T03:35:05Z to now (2026-08-10T03:35:05Z)" in message
    assert "Nothing was sent" in message


def test_a_moment_in_the_future_is_refused():
    with pytest.raises(AtlasInputError, match="in the future"):
        window().check(seconds(NOW + timedelta(seconds=1)), "point_in_time_utc_seconds", NOW)


def test_continuous_backup_off_is_refused_whatever_the_moment():
    with pytest.raises(
        AtlasInputError, match=r"does not use continuous cloud backup \(its pitEnabled is false\)"
    ):
        window(pit_enabled=False).check(seconds(NOW), "point_in_time_utc_seconds", NOW)


@pytest.mark.parametrize("days", [None, 0, -3, "7", True])
def test_an_unusable_window_length_is_not_known_and_only_the_future_is_refused(days):
    unknown = window(days=days)

    assert unknown.restore_window_days is None
    unknown.check(seconds(NOW - timedelta(days=400)), "point_in_time_utc_seconds", NOW)
    with pytest.raises(AtlasInputError, match="no restoreWindowDays"):
        unknown.check(seconds(NOW + timedelta(days=1)), "point_in_time_utc_seconds", NOW)


def test_a_cluster_that_does_not_say_is_not_refused_for_it():
    quiet = RestoreWindow.from_api("Cluster0", {}, {"restoreWindowDays": 7})

    assert quiet.continuous_backup is None
    quiet.check(seconds(NOW), "point_in_time_utc_seconds", NOW)


def test_the_recorded_schedule_and_cluster_give_a_seven_day_window(recorded):
    cluster = recorded("v2-cluster-get-dedicated")["body"]
    schedule = recorded("v2-schedule-update")["body"]

    read = RestoreWindow.from_api(cluster["name"], cluster, schedule)

    assert (read.continuous_backup, read.restore_window_days) == (True, 7)
