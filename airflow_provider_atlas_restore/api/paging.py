"""Reading every item of a paginated Atlas list exactly once, and knowing where it ends."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.exceptions import AtlasResponseError

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest

#: Consecutive full pages that bring nothing new before a listing is declared stuck.
STALL_LIMIT = 3
#: Pages one pass of a listing reads at the most (5,000,000 jobs at 500 a page).
MAX_PAGES = 10_000
#: Passes after the first when items disappear while paging, before giving up.
MAX_EXTRA_PASSES = 3
#: Items a listing may gain while it is read, beyond the first page's ``totalCount``: this many...
GROWTH_ITEMS = 100
#: ...plus this percentage of that ``totalCount``.
GROWTH_PERCENT = 10


def pass_page_limit(first_total: int | None, items_per_page: int, max_pages: int = MAX_PAGES) -> int:
    """
    Return the most pages one pass of a listing may read, given its first page's ``totalCount``.

    A listing of ``first_total`` items ends by page ``ceil(first_total / items_per_page)``. Items
    created meanwhile push it further, so room is left for ``GROWTH_ITEMS`` plus ``GROWTH_PERCENT``
    percent of ``first_total`` more items; ``max_pages`` caps it, and is the limit when the first page
    has no ``totalCount``. One listing reads at most ``1 + MAX_EXTRA_PASSES`` passes of this.

    :param first_total: ``totalCount`` of the listing's first page, or ``None`` when absent.
    :param items_per_page: the page size asked for.
    :param max_pages: the most pages to read whatever ``totalCount`` says.
    """
    if first_total is None:
        return max_pages
    allowed_items = first_total + GROWTH_ITEMS + -(-max(first_total, 0) * GROWTH_PERCENT // 100)
    return max(1, min(max_pages, math.ceil(allowed_items / items_per_page)))


@dataclass(frozen=True)
class Page:
    """
    One page of a paginated answer.

    :param results: the items on this page, as Atlas sent them.
    :param page_num: which page this is, from 1.
    :param items_per_page: the page size asked for.
    :param total_count: ``totalCount`` when sent (Atlas calls it an estimate).
    :param has_next: whether ``links`` holds a ``next`` link; ``None`` when the page has no ``links``.
    :param raw: the whole answer, unknown fields included.
    """

    results: list[dict[str, Any]]
    page_num: int
    items_per_page: int
    total_count: int | None = None
    has_next: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_body(cls, request: ApiRequest, body: Any, page_num: int, items_per_page: int) -> Page:
        """
        Read a page from a parsed answer, or raise :class:`AtlasResponseError` when it is not one.

        :param request: the request answered, for the error message.
        :param body: the parsed JSON, envelope removed.
        :param page_num: the page asked for.
        :param items_per_page: the page size asked for.
        """
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
            raise AtlasResponseError(
                status=200,
                method=request.method,
                path=request.path,
                detail="the answer is not a page: 'results' must be a list of objects",
            )
        assert isinstance(body, dict)
        total = body.get("totalCount")
        links = body.get("links")
        has_next = (
            any(isinstance(link, dict) and link.get("rel") == "next" for link in links)
            if isinstance(links, list)
            else None
        )
        return cls(
            results=results,
            page_num=page_num,
            items_per_page=items_per_page,
            total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
            has_next=has_next,
            raw=body,
        )

    @property
    def is_last(self) -> bool:
        """Return whether no page follows: no ``next`` link, a short page, or ``totalCount`` reached."""
        return (
            self.has_next is False
            or len(self.results) < self.items_per_page
            or (self.total_count is not None and self.page_num * self.items_per_page >= self.total_count)
        )


class UniqueItems:
    """
    Iterate over every item of a list across its pages, each id once, in server order.

    Atlas lists newest first, so an item created while paging pushes older ones onto the next
    page, where they would be seen twice: items are de-duplicated by ``id``. An item removed
    while paging pulls later ones back onto pages already read, where they would be missed:
    when ``totalCount`` drops during a pass, the listing is read once more and the items that
    pass finds for the first time follow (up to three extra passes). The listing ends
    at the first page that shows the end (see :attr:`Page.is_last`), after ``max_items``, and
    never runs on forever: a server that keeps sending full pages of items already seen, more
    pages in one pass than the first page's ``totalCount`` justifies (see
    :func:`pass_page_limit`), or more than ``max_pages`` pages, gets an
    :class:`AtlasResponseError`; so does an item without a string ``id``.

    :param fetch_page: returns the page with the given number.
    :param max_items: stop after this many items; ``None`` for all.
    :param max_pages: the most pages to read.
    :param path: the listed URL path, for error messages.
    :param item_key: the field that tells items apart: ``id`` for most resources, ``_id`` for
        export buckets, ``sourceNamespace`` for a collection restore's collections.
    """

    def __init__(
        self,
        fetch_page: Callable[[int], Page],
        *,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
        path: str = "",
        item_key: str = "id",
    ) -> None:
        self.fetch_page = fetch_page
        self.item_key = item_key
        self.path = path
        self.max_items = max_items
        self.max_pages = max_pages
        self.pages_read = 0
        self.items_read = 0
        self.extra_passes = 0
        self.first_total: int | None = None
        self.page_limit: int | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        if self.max_items == 0:
            return
        for pass_number in range(1 + MAX_EXTRA_PASSES):
            removals_seen = yield from self._one_pass(seen, first=pass_number == 0)
            if self.max_items is not None and self.items_read >= self.max_items:
                return
            if not removals_seen:
                return
            # Jobs vanished while paging, so later ones moved back onto pages already read and
            # may have been missed: read the listing once more (repeats are skipped by id).
            if pass_number < MAX_EXTRA_PASSES:
                self.extra_passes += 1
        raise AtlasResponseError(
            status=200,
            method="GET",
            path=self.path,
            detail=f"items kept disappearing while the listing was read {1 + MAX_EXTRA_PASSES} times",
        )

    def _one_pass(self, seen: set[str], *, first: bool) -> Generator[dict[str, Any], None, bool]:
        """
        Read every page once, yielding unseen items; return whether ``totalCount`` ever dropped.

        :param seen: ids already yielded.
        :param first: the first pass; later passes see mostly known items, so repeats there are
            no sign of a server that never ends.
        """
        stalled = 0
        repeats_allowed = 0
        removals_seen = False
        last_total: int | None = None
        page_num = 1
        while True:
            page = self.fetch_page(page_num)
            self.pages_read += 1
            if self.page_limit is None:  # the listing's first page sets the bound of every pass
                self.first_total = page.total_count
                self.page_limit = pass_page_limit(page.total_count, page.items_per_page, self.max_pages)
            page_limit = self.page_limit
            if last_total is not None and page.total_count is not None:
                change = page.total_count - last_total
                removals_seen = removals_seen or change < 0
                # Items created meanwhile push seen ones onto the next pages: expect repeats.
                repeats_allowed += math.ceil(max(change, 0) / page.items_per_page)
            last_total = page.total_count if page.total_count is not None else last_total
            new_items = 0
            for position, item in enumerate(page.results, start=1):
                item_id = item.get(self.item_key)
                if not isinstance(item_id, str) or not item_id:
                    raise AtlasResponseError(
                        status=200,
                        method="GET",
                        path=self.path,
                        detail=(
                            f"item {position} of page {page_num} has no {self.item_key} (a non-empty string), "
                            "so it cannot be told apart from the items of other pages"
                        ),
                    )
                if item_id in seen:
                    continue
                seen.add(item_id)
                new_items += 1
                self.items_read += 1
                yield item
                if self.max_items is not None and self.items_read >= self.max_items:
                    return removals_seen
            if page.is_last:
                return removals_seen
            if new_items == 0 and repeats_allowed > 0:
                repeats_allowed -= 1
            elif first:
                stalled = stalled + 1 if new_items == 0 else 0
            if stalled >= STALL_LIMIT:
                raise self._endless(f"the last {stalled} with nothing new")
            if page_num >= page_limit:
                raise self._endless(self._limit_reason(page_num, page.items_per_page))
            page_num += 1

    def _limit_reason(self, page_num: int, items_per_page: int) -> str:
        if self.first_total is None or page_num >= self.max_pages:
            return f"{page_num} in this pass, the most one pass may read (max_pages={self.max_pages})"
        return (
            f"{page_num} in this pass, the most that the first page's totalCount of "
            f"{self.first_total} justifies at {items_per_page} a page (with room for "
            f"{GROWTH_ITEMS} items plus {GROWTH_PERCENT} percent more created meanwhile)"
        )

    def _endless(self, reason: str) -> AtlasResponseError:
        return AtlasResponseError(
            status=200,
            method="GET",
            path=self.path,
            detail=(
                f"the listing does not end: {self.pages_read} pages read, {reason}, "
                "and the server still announces more"
            ),
        )
