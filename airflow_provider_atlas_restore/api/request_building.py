"""What the request builders of each resource family need of :class:`~.endpoints.AtlasRequests`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_atlas_restore.api.validation import (
    MAX_ITEMS_PER_PAGE,
    validate_int_range,
    validate_object_id,
)

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest


class RequestBuilding:
    """
    The base of the request-builder groups mixed into :class:`~.endpoints.AtlasRequests`.

    Declares what ``AtlasRequests`` provides (its API version, path prefix and request maker) and
    holds the small helpers every group shares.
    """

    api_version: str
    prefix: str

    if TYPE_CHECKING:

        def _request(
            self,
            method: str,
            path: str,
            *,
            params: Mapping[str, str] | None = None,
            json_body: Any = None,
            envelope: bool = False,
            pretty: bool = False,
            v2_media_type: str | None = None,
        ) -> ApiRequest: ...

        @staticmethod
        def _cluster_path(group_id: str, cluster_name: str) -> str: ...

    @staticmethod
    def _group_path(group_id: str) -> str:
        return f"/groups/{quote(validate_object_id(group_id, 'group_id'), safe='')}"

    @staticmethod
    def _id_segment(value: str, parameter: str) -> str:
        return quote(validate_object_id(value, parameter), safe="")

    @staticmethod
    def _page_params(
        page_num: int, items_per_page: int, *, include_count: bool | None = True
    ) -> dict[str, str]:
        params = {
            "pageNum": str(validate_int_range(page_num, "page_num", 1)),
            "itemsPerPage": str(validate_int_range(items_per_page, "items_per_page", 1, MAX_ITEMS_PER_PAGE)),
        }
        if include_count is not None:
            params["includeCount"] = "true" if include_count else "false"
        return params
