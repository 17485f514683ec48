"""Render a cluster and its backup schedule as Atlas sends them, in the resource version asked for.

Both resources answer two versions on v2: 2024-08-05, and 2023-01-01, which is sunset (its
answers carry ``Deprecation`` and ``Sunset``, as recorded). The cluster is a small subset of a
real description (the fields a backup needs: ``pitEnabled``, ``backupEnabled``, ``clusterType``,
``stateName``); the schedule follows ``recorded/v2-schedule-update.json``, the recorded default
policy of a new M10 cluster, with the cluster's ``restoreWindowDays``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.testing.backup_payloads import BACKUP_VERSIONED_ROUTES
from airflow_provider_atlas_restore.testing.clock import iso_utc
from airflow_provider_atlas_restore.testing.flex_payloads import FLEX_VERSIONED_ROUTES
from airflow_provider_atlas_restore.testing.payloads import V1_CONTENT_TYPE, V2_MEDIA_TYPE, View
from airflow_provider_atlas_restore.testing.records import Cluster

__all__ = [
    "MEDIA_TYPE_2024_08_05",
    "VERSIONED_ROUTES",
    "negotiate",
    "render_backup_schedule",
    "render_cluster",
]

MEDIA_TYPE_2024_08_05 = "application/vnd.atlas.2024-08-05+json"
#: The v2 media types each versioned route answers, the preferred one first.
VERSIONED_ROUTES: dict[str, tuple[str, ...]] = {
    "get_cluster": (MEDIA_TYPE_2024_08_05, V2_MEDIA_TYPE),
    "get_backup_schedule": (MEDIA_TYPE_2024_08_05, V2_MEDIA_TYPE),
    **FLEX_VERSIONED_ROUTES,
    **BACKUP_VERSIONED_ROUTES,
}
#: What answers in a sunset version carry (README "Versioned media types").
SUNSET_HEADERS = {"Deprecation": "Mon, 5 Aug 2024 00:00:00 GMT", "Sunset": "Thu, 1 Jul 2027 00:00:00 GMT"}
#: The recorded default policy of a new M10: (frequencyType, frequencyInterval, retentionUnit, retentionValue).
_DEFAULT_POLICY = (
    ("hourly", 6, "days", 7),
    ("daily", 1, "days", 7),
    ("weekly", 6, "weeks", 4),
    ("monthly", 40, "months", 12),
    ("yearly", 12, "years", 1),
)
_HOUR = 3600


def negotiate(route: str, accept: str) -> str | None:
    """Return the media type a v2 request of ``route`` gets for its ``Accept``, or None (406).

    :param route: the route name.
    :param accept: the request's ``Accept`` header.
    """
    asked = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media_type in VERSIONED_ROUTES.get(route, (V2_MEDIA_TYPE,)):
        if media_type in asked:
            return media_type
    return None


def answer_headers(version: str, media_type: str | None) -> dict[str, str]:
    """Return the ``Content-Type`` (and, for a sunset version of a versioned route, the sunset headers).

    :param version: ``v2`` or ``v1.0``.
    :param media_type: what :func:`negotiate` chose (v2), or None for v1.0.
    """
    if version != "v2" or media_type is None:
        return {"Content-Type": V1_CONTENT_TYPE}
    headers = {"Content-Type": f"{media_type};charset=utf-8"}
    if media_type == V2_MEDIA_TYPE:
        headers.update(SUNSET_HEADERS)
    return headers


def _link(href: str, rel: str) -> dict[str, str]:
    return {"href": href, "rel": rel}


def render_cluster(cluster: Cluster, view: View) -> dict[str, Any]:
    """Render the backup-related fields of a dedicated cluster's description.

    :param cluster: the cluster.
    :param view: rendering context.
    """
    url = f"{view.api_root}/groups/{cluster.group_id}/clusters/{cluster.name}"
    return {
        "backupEnabled": True,
        "clusterType": "SHARDED" if cluster.sharded else "REPLICASET",
        "createDate": iso_utc(cluster.created_at),
        "groupId": cluster.group_id,
        "id": cluster.id,
        "links": [
            _link(url, "self"),
            _link(f"{url}/backup/restoreJobs", view.rel("restoreJobs")),
            _link(f"{url}/backup/snapshots", view.rel("snapshots")),
        ],
        "mongoDBMajorVersion": "8.0",
        "mongoDBVersion": "8.0.4",
        "name": cluster.name,
        "paused": False,
        "pitEnabled": cluster.continuous_backup,
        "stateName": "IDLE",
    }


def render_backup_schedule(cluster: Cluster, view: View) -> dict[str, Any]:
    """Render the cluster's backup schedule: the recorded default policy, its restore window.

    :param cluster: the cluster.
    :param view: rendering context.
    """
    reference_hour, reference_minute = 3, 16
    day_start = int(view.now) - int(view.now) % 86_400
    next_snapshot = day_start + reference_hour * _HOUR + reference_minute * 60
    while next_snapshot <= view.now:
        next_snapshot += 6 * _HOUR  # the hourly item: every 6 hours
    group_url = f"{view.base_url}/api/public/v1.0/groups/{cluster.group_id}"
    items = [
        {
            "frequencyInterval": interval,
            "frequencyType": frequency,
            "id": f"{cluster.id[:-1]}{index + 1:x}",
            "retentionUnit": unit,
            "retentionValue": value,
        }
        for index, (frequency, interval, unit, value) in enumerate(_DEFAULT_POLICY)
    ]
    return {
        "autoExportEnabled": False,
        "clusterId": cluster.id,
        "clusterName": cluster.name,
        "copyPolicyItemsEnabled": False,
        "copySettings": [],
        "links": [
            _link(
                f"{view.api_root}/groups/{cluster.group_id}/clusters/{cluster.name}/backup/schedule", "self"
            ),
            _link(group_url, "https://cloud.mongodb.com/group"),
        ],
        "nextSnapshot": iso_utc(next_snapshot),
        "policies": [{"id": f"{cluster.id[:-1]}0", "policyItems": items}],
        "referenceHourOfDay": reference_hour,
        "referenceMinuteOfHour": reference_minute,
        "restoreWindowDays": cluster.restore_window_days,
        "useOrgAndGroupNamesInExportPrefix": True,
    }
