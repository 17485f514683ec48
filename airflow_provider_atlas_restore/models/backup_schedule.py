"""
Where a point-in-time restore may land: the cluster's continuous backup and its restore window.

Atlas keeps the two facts in two resources: the cluster says whether it uses continuous cloud
backup (``pitEnabled``, ``GET /clusters/{name}``), and its backup schedule how many days back a
point-in-time restore can go (``restoreWindowDays``, ``GET /clusters/{name}/backup/schedule``).
Both are read leniently; a restore is refused here only on what they do say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError

_DAY = timedelta(days=1)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_days(value: Any) -> int | None:
    """Return ``restoreWindowDays`` when it is a positive whole number, else ``None`` (not known)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


@dataclass(frozen=True)
class RestoreWindow:
    """
    A cluster's point-in-time restore window: whether continuous backup is on, and its length.

    :param cluster_name: the cluster (the source of the restore), for messages.
    :param continuous_backup: the cluster's ``pitEnabled``; ``None`` when the answer did not say.
    :param restore_window_days: the schedule's ``restoreWindowDays``; ``None`` when absent or not
        a positive whole number.
    """

    cluster_name: str
    continuous_backup: bool | None
    restore_window_days: int | None

    @classmethod
    def from_api(
        cls, cluster_name: str, cluster: Mapping[str, Any], schedule: Mapping[str, Any]
    ) -> RestoreWindow:
        """
        Read the window from the cluster and its backup schedule as Atlas returned them.

        :param cluster_name: the cluster the two answers describe.
        :param cluster: the answer of ``GET /clusters/{name}``.
        :param schedule: the answer of ``GET /clusters/{name}/backup/schedule``.
        """
        pit_enabled = cluster.get("pitEnabled")
        return cls(
            cluster_name=cluster_name,
            continuous_backup=pit_enabled if isinstance(pit_enabled, bool) else None,
            restore_window_days=_window_days(schedule.get("restoreWindowDays")),
        )

    def earliest(self, now: datetime) -> datetime | None:
        """
        Return the earliest moment the window reaches back to at ``now``, or ``None`` when not known.

        :param now: the current time (aware).
        """
        if self.restore_window_days is None:
            return None
        return now - self.restore_window_days * _DAY

    def describe(self, now: datetime) -> str:
        """
        Return the window as a phrase for the log: ``the last 7 days, from ... to now (...)``.

        :param now: the current time (aware).
        """
        earliest = self.earliest(now)
        if earliest is None:
            return "a window whose length the backup schedule does not give (no restoreWindowDays)"
        return f"the last {self.restore_window_days} days, from {_iso(earliest)} to now ({_iso(now)})"

    def check(self, moment_seconds: int, parameter: str, now: datetime) -> None:
        """
        Raise :class:`AtlasInputError` when a point-in-time restore to ``moment_seconds`` cannot work.

        It cannot when the cluster does not use continuous backup, or when the moment lies before
        the window's start or after ``now``. The message gives the window.

        :param moment_seconds: the moment to restore to, seconds since the epoch.
        :param parameter: what holds the moment (``point_in_time_utc_seconds`` or ``oplog_ts``).
        :param now: the current time (aware).
        """
        if self.continuous_backup is False:
            raise AtlasInputError(
                f"Cluster {self.cluster_name} does not use continuous cloud backup (its pitEnabled is "
                "false), which a pointInTime restore needs. Turn on continuous cloud backup for the "
                "cluster, or restore a snapshot (delivery_type='automated'). Nothing was sent."
            )
        earliest = self.earliest(now)
        moment = datetime.fromtimestamp(moment_seconds, tz=timezone.utc)
        if (earliest is not None and moment < earliest) or moment > now:
            where = "in the future" if moment > now else "before its start"
            raise AtlasInputError(
                f"{parameter}={moment_seconds} ({_iso(moment)}) is outside the point-in-time restore "
                f"window of cluster {self.cluster_name} ({where}): the window is {self.describe(now)}. "
                "Choose a moment inside it, or restore a snapshot (delivery_type='automated'). "
                "Nothing was sent."
            )
