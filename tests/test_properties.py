"""Property tests (hypothesis): paging under concurrent changes, and any answer body whatsoever."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_atlas_restore.api.endpoints import AtlasRequests, oauth_token_request
from airflow_provider_atlas_restore.api.paging import MAX_EXTRA_PASSES, Page, UniqueItems, pass_page_limit
from airflow_provider_atlas_restore.api.responses import parse_response, parse_token_response
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError
from airflow_provider_atlas_restore.models import (
    RestoreJob,
    RestoreJobResult,
    evaluate_restore_job,
    newest_completed,
    parse_timestamp,
)

GROUP = "6a793f6b2c88faeba59bae37"
REQUEST = AtlasRequests().list_restore_jobs_request(GROUP, "Cluster0")
TOKEN_REQUEST = oauth_token_request("id", "secret")


class ChangingServer:
    """A newest-first job list that gains or loses jobs between page requests, as Atlas can."""

    def __init__(self, count: int, inserts: dict[int, int], removals: dict[int, int]) -> None:
        self.jobs = [f"{n:024x}" for n in range(count, 0, -1)]
        self.ever = set(self.jobs)
        self.next_id = count + 1
        self.inserts = inserts
        self.removals = removals
        self.requests = 0

    def page(self, page_num: int, size: int) -> Page:
        for _ in range(self.inserts.get(self.requests, 0)):
            new = f"{self.next_id:024x}"
            self.next_id += 1
            self.jobs.insert(0, new)
            self.ever.add(new)
        if self.removals.get(self.requests) is not None and self.jobs:
            del self.jobs[self.removals[self.requests] % len(self.jobs)]
        self.requests += 1
        start = (page_num - 1) * size
        results = [{"id": job_id} for job_id in self.jobs[start : start + size]]
        links = [{"rel": "self"}] + ([{"rel": "next"}] if start + size < len(self.jobs) else [])
        body = {"results": results, "totalCount": len(self.jobs), "links": links}
        return Page.from_body(REQUEST, body, page_num, size)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 60),
    size=st.integers(1, 12),
    inserts=st.dictionaries(st.integers(1, 10), st.integers(1, 5), max_size=3),
)
def test_listing_holds_every_job_once_when_jobs_are_created_while_paging(count, size, inserts):
    server = ChangingServer(count, inserts, {})
    initial = set(server.jobs)

    listed = [item["id"] for item in UniqueItems(lambda n: server.page(n, size))]

    assert len(listed) == len(set(listed))
    assert initial <= set(listed) <= server.ever  # every job that was there, and nothing invented


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 60),
    size=st.integers(1, 12),
    inserts=st.dictionaries(st.integers(1, 10), st.integers(1, 3), max_size=2),
    removals=st.dictionaries(st.integers(1, 10), st.integers(0, 100), max_size=3),
)
def test_listing_misses_no_job_that_stayed_when_jobs_also_go_while_paging(count, size, inserts, removals):
    server = ChangingServer(count, inserts, removals)
    initial = set(server.jobs)

    listed = [item["id"] for item in UniqueItems(lambda n: server.page(n, size))]

    assert len(listed) == len(set(listed))
    assert initial & set(server.jobs) <= set(listed)  # every job there from start to end
    assert set(listed) <= server.ever


class EndlessServer:
    """A list that always announces a next page, repeats ids from a small pool and moves ``totalCount``."""

    def __init__(self, first_total: int, changes: list[int], pool: int) -> None:
        self.total = first_total
        self.changes = changes
        self.pool = pool
        self.requests = 0

    def page(self, page_num: int, size: int) -> Page:
        if self.requests:
            self.total += self.changes[self.requests % len(self.changes)]
        ids = [f"{(self.requests * 7 + offset) % self.pool:024x}" for offset in range(size)]
        self.requests += 1
        body = {"results": [{"id": i} for i in ids], "totalCount": self.total, "links": [{"rel": "next"}]}
        return Page.from_body(REQUEST, body, page_num, size)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first_total=st.integers(1, 60),
    size=st.integers(1, 12),
    changes=st.lists(st.integers(-3, 30), min_size=1, max_size=5),
    pool=st.integers(1, 500),
)
def test_no_server_keeps_a_listing_going_beyond_what_its_first_total_allows(first_total, size, changes, pool):
    server = EndlessServer(first_total, changes, pool)

    with contextlib.suppress(AtlasResponseError):  # the listing may end or be declared endless
        for _ in UniqueItems(lambda n: server.page(n, size)):
            pass

    assert server.requests <= (1 + MAX_EXTRA_PASSES) * pass_page_limit(first_total, size)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
job_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values
        for key in (
            "id",
            "deliveryType",
            "deliveryUrl",
            "components",
            "cancelled",
            "failed",
            "expired",
            "expiresAt",
            "finishedAt",
            "snapshotId",
            "createdAt",
            "status",
        )
    },
)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    job_like.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda jobs, total: json.dumps({"results": jobs, "totalCount": total}).encode(),
        st.lists(job_like, max_size=4),
        json_values,
    ),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda text: f"<html><body>{text}</body></html>".encode()),
    job_like.map(lambda value: json.dumps(value).encode()[: max(0, len(json.dumps(value)) // 2)]),
)
statuses = st.sampled_from([200, 204, 400, 401, 403, 404, 405, 409, 429, 500, 502, 503, 504])


@settings(max_examples=500, deadline=None)
@given(status=statuses, body=bodies, envelope=st.booleans(), retry_after=st.none() | st.text(max_size=10))
def test_any_answer_is_parsed_or_raises_an_atlas_api_error(status, body, envelope, retry_after):
    request = AtlasRequests().list_restore_jobs_request(GROUP, "Cluster0", envelope=envelope)
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    with contextlib.suppress(AtlasApiError):  # any other exception fails the test
        parsed = parse_response(request, status, headers, body)
        page = Page.from_body(request, parsed, 1, 100)
        for job in page.results:
            _read_every_field(job)


@settings(max_examples=300, deadline=None)
@given(job=st.dictionaries(st.text(max_size=12), json_values, max_size=6) | job_like)
def test_any_job_body_is_read_without_error(job):
    _read_every_field(job)


@settings(max_examples=200, deadline=None)
@given(status=statuses, body=bodies)
def test_any_token_answer_gives_a_token_or_an_atlas_api_error(status, body):
    try:
        token = parse_token_response(TOKEN_REQUEST, status, {}, body)
    except AtlasApiError:
        return
    assert token.value
    assert token.expires_in > 0


@settings(max_examples=200, deadline=None)
@given(snapshots=st.lists(job_like, max_size=6))
def test_newest_completed_accepts_any_snapshot_list(snapshots):
    chosen = newest_completed(snapshots)
    assert chosen is None or chosen.get("status") == "completed"


def _read_every_field(job: dict[str, Any]) -> None:
    view = RestoreJob.from_api(job)
    _ = (view.id, view.delivery_type, view.snapshot_id, view.delivery_urls, view.components)
    _ = (view.expires_at, view.finished_at, view.state, view.download_ready)
    evaluate_restore_job(job, cluster_name="Cluster0", now=datetime.now(timezone.utc))
    json.dumps(
        RestoreJobResult.from_job(
            job, restore_job_id=GROUP, cluster_name="Cluster0", group_id=GROUP
        ).to_xcom()
    )
    parse_timestamp(job.get("expiresAt"))
