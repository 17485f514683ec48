"""AtlasHook: one page with every query parameter, and whole listings across pages (requests-mock)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_atlas_restore.api.paging import GROWTH_ITEMS, GROWTH_PERCENT
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError
from tests.conftest import CLUSTER, jobs_url, make_job, page_body

URL = jobs_url()


def query(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url).query).items()}


def jobs(start: int, count: int) -> list[dict]:
    """Return ``count`` jobs whose ids count down from ``start`` (newest first)."""
    return [make_job(start - offset) for offset in range(count)]


def ids(listing) -> list[str]:
    return [job["id"] for job in listing]


def test_page_sends_every_query_parameter(hook, requests_mock):
    requests_mock.get(URL, json={"results": [], "status": 200})

    hook.get_restore_jobs_page(
        CLUSTER, page_num=3, items_per_page=7, include_count=False, pretty=True, envelope=True
    )

    assert query(requests_mock.last_request) == {
        "pageNum": "3",
        "itemsPerPage": "7",
        "includeCount": "false",
        "pretty": "true",
        "envelope": "true",
    }


def test_page_defaults_are_first_page_500_items_with_count(hook, requests_mock):
    requests_mock.get(URL, json=page_body([]))

    hook.get_restore_jobs_page(CLUSTER)

    assert query(requests_mock.last_request) == {
        "pageNum": "1",
        "itemsPerPage": "500",
        "includeCount": "true",
    }


def test_envelope_is_removed_from_a_page(hook, requests_mock):
    body = {**page_body(jobs(5, 2), total=2), "status": 200}
    requests_mock.get(URL, json=body)

    page = hook.get_restore_jobs_page(CLUSTER, envelope=True)

    assert "status" not in page.raw
    assert [job["id"] for job in page.results] == ids(jobs(5, 2))
    assert page.total_count == 2


def test_envelope_is_removed_from_a_single_job(hook):
    from airflow_provider_atlas_restore.api.endpoints import AtlasRequests
    from airflow_provider_atlas_restore.api.responses import parse_response

    request = AtlasRequests().get_restore_job_request(
        "6a793f6b2c88faeba59bae37", CLUSTER, "a" * 24, envelope=True
    )
    body = b'{"status": 200, "content": {"id": "aaaaaaaaaaaaaaaaaaaaaaaa", "newField": 1}}'

    assert parse_response(request, 200, {}, body) == {"id": "a" * 24, "newField": 1}


def test_enveloped_error_raises_with_the_inner_status(hook, requests_mock):
    requests_mock.get(
        URL,
        json={"status": 404, "content": {"error": 404, "errorCode": "CLUSTER_NOT_FOUND", "detail": "gone"}},
    )

    with pytest.raises(AtlasApiError, match="CLUSTER_NOT_FOUND") as caught:
        hook.get_restore_jobs_page(CLUSTER, envelope=True)
    assert caught.value.status == 404


def test_listing_ends_at_the_page_without_a_next_link(hook, requests_mock):
    requests_mock.get(
        URL,
        [
            {"json": page_body(jobs(10, 2), next_link=True)},
            {"json": page_body(jobs(8, 2), next_link=False)},  # full page, but no next
        ],
    )

    assert ids(hook.list_restore_jobs(CLUSTER, page_size=2)) == ids(jobs(10, 4))
    assert requests_mock.call_count == 2


def test_listing_ends_at_a_short_page(hook, requests_mock):
    requests_mock.get(URL, [{"json": {"results": jobs(10, 3)}}, {"json": {"results": jobs(7, 1)}}])

    assert ids(hook.list_restore_jobs(CLUSTER, page_size=3)) == ids(jobs(10, 4))
    assert requests_mock.call_count == 2


def test_listing_ends_when_total_count_is_reached(hook, requests_mock):
    requests_mock.get(
        URL,
        [
            {"json": page_body(jobs(10, 3), total=6, next_link=True)},
            {"json": page_body(jobs(7, 3), total=6, next_link=True)},  # next link, but 2*3 >= 6
        ],
    )

    assert ids(hook.list_restore_jobs(CLUSTER, page_size=3)) == ids(jobs(10, 6))
    assert requests_mock.call_count == 2


def test_job_created_while_paging_is_not_listed_twice(hook, requests_mock):
    # Page 1 is read, then job 11 is created: everything shifts one place, so job 8 shows again.
    requests_mock.get(
        URL,
        [
            {"json": page_body(jobs(10, 3), total=6, next_link=True)},
            {"json": page_body(jobs(8, 3), total=7, next_link=True)},
            {"json": page_body(jobs(5, 1), total=7)},
        ],
    )

    listed = ids(hook.list_restore_jobs(CLUSTER, page_size=3))

    assert listed == ids(jobs(10, 6))
    assert len(listed) == len(set(listed))
    assert query(requests_mock.request_history[2])["pageNum"] == "3"


def test_listing_keeps_server_order_newest_first(hook, requests_mock):
    requests_mock.get(URL, json=page_body(jobs(50, 5), total=5))

    assert ids(hook.list_restore_jobs(CLUSTER)) == [f"{n:024x}" for n in (50, 49, 48, 47, 46)]


def test_max_items_caps_the_listing_and_the_requests(hook, requests_mock):
    requests_mock.get(URL, json=page_body(jobs(100, 10), total=100, next_link=True))

    assert len(hook.list_restore_jobs(CLUSTER, page_size=10, max_items=5)) == 5
    assert requests_mock.call_count == 1


def test_server_that_never_ends_gets_a_clear_error_not_an_endless_loop(hook, requests_mock):
    requests_mock.get(URL, json=page_body(jobs(10, 2), next_link=True))  # the same full page forever

    with pytest.raises(AtlasResponseError, match="the listing does not end"):
        hook.list_restore_jobs(CLUSTER, page_size=2)
    assert requests_mock.call_count == 4  # the first page, then three with nothing new


def test_max_pages_bounds_a_listing_of_new_jobs_forever(hook, requests_mock):
    counter = iter(range(10**6, 0, -1))
    requests_mock.get(URL, json=lambda request, context: page_body([make_job(next(counter))], next_link=True))

    with pytest.raises(AtlasResponseError, match="20 pages read"):
        hook.list_restore_jobs(CLUSTER, page_size=1, max_pages=20)


def test_page_that_is_not_a_page_raises_a_response_error(hook, requests_mock):
    requests_mock.get(URL, json={"results": "nope"})

    with pytest.raises(AtlasResponseError, match="'results' must be a list"):
        hook.list_restore_jobs(CLUSTER)


def test_unknown_fields_are_kept(hook, requests_mock):
    requests_mock.get(URL, json=page_body([make_job(1, brandNewField={"a": 1})], total=1))

    assert hook.list_restore_jobs(CLUSTER)[0]["brandNewField"] == {"a": 1}


def test_listing_logs_jobs_and_pages(hook, requests_mock, log_text):
    requests_mock.get(URL, [{"json": page_body(jobs(9, 2), next_link=True)}, {"json": page_body(jobs(7, 1))}])

    hook.list_restore_jobs(CLUSTER, page_size=2)

    assert "Read 3 restore jobs of cluster backupRestores-305 in 2 pages" in log_text()


def test_job_removed_while_paging_is_not_missed(hook, requests_mock):
    # Page 1 is read, then job 10 is removed: everything moves back one place, so job 7 lands
    # on page 1, already read. totalCount drops from 6 to 5, so the listing is read once more.
    requests_mock.get(
        URL,
        [
            {"json": page_body(jobs(10, 3), total=6, next_link=True)},
            {"json": page_body(jobs(6, 2), total=5)},
            {"json": page_body(jobs(9, 3), total=5, next_link=True)},
            {"json": page_body(jobs(6, 2), total=5)},
        ],
    )

    listed = ids(hook.list_restore_jobs(CLUSTER, page_size=3))

    assert sorted(listed) == sorted(ids(jobs(10, 6)))
    assert len(listed) == len(set(listed))
    assert [query(r)["pageNum"] for r in requests_mock.request_history] == ["1", "2", "1", "2"]


def test_jobs_that_keep_disappearing_end_in_a_clear_error(hook, requests_mock):
    totals = iter(range(1000, 0, -1))  # fewer jobs at every request: each pass sees removals

    def answer(request, context):
        first_page = query(request)["pageNum"] == "1"
        return page_body(jobs(9, 2) if first_page else jobs(7, 1), total=next(totals), next_link=first_page)

    requests_mock.get(URL, json=answer)

    with pytest.raises(AtlasResponseError, match="kept disappearing while the listing was read 4 times"):
        hook.list_restore_jobs(CLUSTER, page_size=2)
    assert requests_mock.call_count == 8


def pages_the_first_total_allows(first_total: int, page_size: int) -> int:
    """The documented bound: the first totalCount, plus GROWTH_ITEMS and GROWTH_PERCENT more, in pages."""
    allowed_items = first_total + GROWTH_ITEMS + math.ceil(first_total * GROWTH_PERCENT / 100)
    return math.ceil(allowed_items / page_size)


@pytest.mark.timeout(120)
def test_total_count_rising_every_page_with_repeated_items_stops_at_the_bound_of_the_first_total(
    hook, requests_mock
):
    # Every page repeats the same two jobs and claims two more jobs than the last: each rise
    # excuses one page of repeats, so the stall guard alone never fires.
    totals = iter(range(10, 10**9, 2))
    requests_mock.get(
        URL, json=lambda request, context: page_body(jobs(10, 2), total=next(totals), next_link=True)
    )

    with pytest.raises(AtlasResponseError, match="totalCount of 10 justifies") as caught:
        hook.list_restore_jobs(CLUSTER, page_size=2)

    bound = pages_the_first_total_allows(10, 2)
    assert requests_mock.call_count == bound == 56
    assert f"{bound} pages read" in str(caught.value)


@pytest.mark.timeout(120)
def test_new_jobs_forever_with_a_rising_total_stop_at_the_bound_of_the_first_total(hook, requests_mock):
    counter = iter(range(10**6, 0, -1))
    totals = iter(range(40, 10**9, 5))

    def answer(request, context):
        return page_body([make_job(next(counter)) for _ in range(5)], total=next(totals), next_link=True)

    requests_mock.get(URL, json=answer)

    listing = hook.iter_restore_jobs(CLUSTER, page_size=5)
    with pytest.raises(AtlasResponseError, match="the listing does not end"):
        for _ in listing:
            pass

    assert requests_mock.call_count == pages_the_first_total_allows(40, 5)
    assert listing.items_read == 5 * pages_the_first_total_allows(40, 5)


@pytest.mark.timeout(120)
def test_later_pages_without_total_count_are_bounded_by_the_first_total(hook, requests_mock):
    counter = iter(range(10**6, 0, -1))

    def answer(request, context):
        first = query(request)["pageNum"] == "1"
        return page_body(
            [make_job(next(counter)) for _ in range(3)], total=30 if first else None, next_link=True
        )

    requests_mock.get(URL, json=answer)

    with pytest.raises(AtlasResponseError, match="totalCount of 30 justifies"):
        hook.list_restore_jobs(CLUSTER, page_size=3)
    assert requests_mock.call_count == pages_the_first_total_allows(30, 3)


@pytest.mark.parametrize("item", [{"deliveryType": "download"}, {"id": 12345}, {"id": ""}, {"id": None}])
def test_item_without_a_string_id_is_an_answer_error(hook, requests_mock, item):
    requests_mock.get(URL, json=page_body([make_job(9), item], total=2))

    with pytest.raises(AtlasResponseError, match="item 2 of page 1 has no id"):
        hook.list_restore_jobs(CLUSTER)


def test_snapshot_without_an_id_is_an_answer_error(hook, requests_mock):
    requests_mock.get(
        URL.replace("restoreJobs", "snapshots"), json=page_body([{"status": "completed"}], total=1)
    )

    with pytest.raises(AtlasResponseError, match="has no id"):
        hook.list_snapshots(CLUSTER)
