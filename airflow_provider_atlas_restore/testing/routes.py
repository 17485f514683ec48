"""Routing: which named route a method and path select, and the request/answer value types."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = ["Answer", "Request", "RouteMatch", "match_route"]

_API = r"^/api/atlas/(?P<version>v1\.0|v2)/groups/(?P<group_id>[^/]+)"
_CLUSTER = _API + r"/clusters/(?P<cluster_name>[^/]+)/backup"
_FLEX = r"^/api/atlas/(?P<version>v2)/groups/(?P<group_id>[^/]+)/flexClusters/(?P<cluster_name>[^/]+)"
_TABLE: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (
        re.compile(_CLUSTER + r"/restoreJobs/?$"),
        {"GET": "list_restore_jobs", "POST": "create_restore_job"},
    ),
    (
        re.compile(_CLUSTER + r"/restoreJobs/(?P<job_id>[^/]+)$"),
        {"GET": "get_restore_job", "DELETE": "cancel_restore_job"},
    ),
    (re.compile(_CLUSTER + r"/snapshots/shardedClusters$"), {"GET": "list_sharded_snapshots"}),
    (
        re.compile(_CLUSTER + r"/snapshots/shardedCluster/(?P<snapshot_id>[^/]+)$"),
        {"GET": "get_sharded_snapshot"},
    ),
    (re.compile(_CLUSTER + r"/snapshots/?$"), {"GET": "list_snapshots", "POST": "take_snapshot"}),
    (
        re.compile(_CLUSTER + r"/snapshots/(?P<snapshot_id>[^/]+)$"),
        {"GET": "get_snapshot", "DELETE": "delete_snapshot", "PATCH": "update_snapshot_retention"},
    ),
    (re.compile(_CLUSTER + r"/schedule$"), {"GET": "get_backup_schedule"}),
    (re.compile(_CLUSTER + r"/exports/?$"), {"GET": "list_export_jobs", "POST": "create_export_job"}),
    (re.compile(_CLUSTER + r"/exports/(?P<export_id>[^/]+)$"), {"GET": "get_export_job"}),
    (
        re.compile(_API + r"/backup/exportBuckets/?$"),
        {"GET": "list_export_buckets", "POST": "create_export_bucket"},
    ),
    (re.compile(_API + r"/backup/exportBuckets/(?P<export_bucket_id>[^/]+)$"), {"GET": "get_export_bucket"}),
    (
        re.compile(_API + r"/clusters/(?P<cluster_name>[^/]+)/collectionRestoreJobs/?$"),
        {"GET": "list_collection_restore_jobs", "POST": "create_collection_restore_job"},
    ),
    (
        re.compile(_API + r"/clusters/(?P<cluster_name>[^/]+)/collectionRestoreJobs/(?P<job_id>[^/]+)$"),
        {"GET": "get_collection_restore_job"},
    ),
    (
        re.compile(
            _API + r"/clusters/(?P<cluster_name>[^/]+)/collectionRestoreJobs/(?P<job_id>[^/]+)/collections/?$"
        ),
        {"GET": "list_restored_collections"},
    ),
    (
        re.compile(
            _API
            + r"/clusters/(?P<cluster_name>[^/]+)/collectionRestoreJobs/(?P<job_id>[^/]+)"
            + r"/collections/(?P<source_namespace>[^/]+)$"
        ),
        {"GET": "get_restored_collection"},
    ),
    (re.compile(_API + r"/clusters/(?P<cluster_name>[^/]+)$"), {"GET": "get_cluster"}),
    (re.compile(_API + r"/?$"), {"GET": "get_project"}),
    (re.compile(r"^/api/atlas/(?P<version>v1\.0|v2)/groups/?$"), {"GET": "list_projects"}),
    (
        re.compile(r"^/backup/download/(?P<token>[^/]+)/(?P<filename>[^/]+)$"),
        {"GET": "download", "HEAD": "download"},
    ),
    (
        re.compile(r"^/backup/private/(?P<endpoint_id>[^/]+)/(?P<token>[^/]+)/(?P<filename>[^/]+)$"),
        {"GET": "private_download", "HEAD": "private_download"},
    ),
    (re.compile(r"^/api/oauth/token$"), {"POST": "oauth_token"}),
    (
        re.compile(_FLEX + r"/backup/restoreJobs/?$"),
        {"GET": "list_flex_restore_jobs", "POST": "create_flex_restore_job"},
    ),
    (re.compile(_FLEX + r"/backup/restoreJobs/(?P<job_id>[^/]+)$"), {"GET": "get_flex_restore_job"}),
    (re.compile(_FLEX + r"/backup/snapshots/?$"), {"GET": "list_flex_snapshots"}),
    (re.compile(_FLEX + r"/backup/snapshots/(?P<snapshot_id>[^/]+)$"), {"GET": "get_flex_snapshot"}),
    (re.compile(_FLEX + r"/backup/download$"), {"POST": "download_flex_snapshot"}),
    (re.compile(_FLEX + r"$"), {"GET": "get_flex_cluster"}),
    (
        re.compile(r"^/backup/flex/(?P<token>[^/]+)/(?P<filename>[^/]+)$"),
        {"GET": "flex_snapshot_file", "HEAD": "flex_snapshot_file"},
    ),
]


@dataclass(frozen=True)
class RouteMatch:
    """A path that matched: route ``name`` (None if the method is not allowed there)."""

    name: str | None
    params: dict[str, str]
    allowed: tuple[str, ...]


def match_route(method: str, path: str) -> RouteMatch | None:
    """Find the route for a request, or None for an unknown path.

    :param method: HTTP method.
    :param path: URL path without the query string (still percent-encoded).
    """
    for pattern, methods in _TABLE:
        found = pattern.match(path)
        if found:
            params = {k: unquote(v) for k, v in found.groupdict().items()}
            return RouteMatch(methods.get(method.upper()), params, tuple(methods))
    return None


@dataclass
class Request:
    """What a handler sees of one HTTP request."""

    method: str
    target: str  # request target as sent (path and query)
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str]
    client_ip: str

    @property
    def version(self) -> str:
        """API version of the path (``v2`` or ``v1.0``), empty for non-API routes."""
        return self.params.get("version", "")

    def arg(self, name: str) -> str | None:
        """Return the first value of a query parameter, or None.

        :param name: parameter name (case-sensitive, as Atlas treats them).
        """
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Answer:
    """An HTTP answer: a body in memory or a stream of ``length`` bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    length: int | None = None
    on_complete: Callable[[], None] | None = None  # called just before the last chunk is written

    @property
    def content_length(self) -> int:
        """The ``Content-Length`` to send."""
        return self.length if self.length is not None else len(self.body)
