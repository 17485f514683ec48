"""What the per-resource operations of :class:`~.atlas.AtlasHook` need of it: one declaration for type checkers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasRequests
    from airflow_provider_atlas_restore.client.retry import RetryPolicy


class HookOperations:
    """
    The base of the operation groups that :class:`~.atlas.AtlasHook` is made of (restore jobs, snapshots).

    Each group is a class of API operations in a module of its own; ``AtlasHook`` inherits them
    all and provides what this class declares: the request builder, the sending of a request
    with retries, the project id check and the log.
    """

    if TYPE_CHECKING:

        @property
        def log(self) -> Any: ...  # Airflow's LoggingMixin: a structlog logger on 3.x, logging on 2.11

        @property
        def api(self) -> AtlasRequests: ...

        def run(
            self,
            request: ApiRequest,
            *,
            retry: RetryPolicy | None = None,
            retry_if: Callable[[BaseException], bool] = ...,
            authorize: bool = True,
        ) -> Any: ...

        def resolve_group_id(self, group_id: str | None) -> str: ...
