"""The non-blocking counterpart of AtlasHook, for triggers: httpx with the same requests and rules."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
from airflow.providers.common.compat.sdk import mask_secret

from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasRequests
from airflow_provider_atlas_restore.api.responses import (
    AccessToken,
    AnswerBuffer,
    AnswerDecoder,
    expect_mapping,
)
from airflow_provider_atlas_restore.client.async_pool import (
    SharedAsyncClient,
    async_client_pool,
)
from airflow_provider_atlas_restore.client.async_pool import tls_context as tls_context
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.tokens import SERVICE_ACCOUNT, TokenCache, shared_token_cache
from airflow_provider_atlas_restore.client.transport import (
    Answer,
    arun_flow,
    attempt_failure,
    call_flow,
    got_token,
    token_request,
    uses_bearer,
)
from airflow_provider_atlas_restore.client.transport_errors import HTTP_CLIENT_ERRORS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import tenacity

    from airflow_provider_atlas_restore.client.retry import RetryPolicy

log = logging.getLogger(__name__)


async def load_connection_config(conn_id: str) -> AtlasConnectionConfig:
    """
    Read a ``mongodb_atlas`` connection without blocking the event loop.

    :param conn_id: the connection id.
    """
    connection = await get_async_connection(conn_id)
    extras = await get_async_extra_dejson(connection)
    config = AtlasConnectionConfig.from_connection(connection, extras=extras)
    mask_secret(config.password)
    return config


class AtlasAsyncClient:
    """
    Call the Atlas Administration API from an event loop, through a client shared per loop and connection.

    Use as ``async with AtlasAsyncClient(config) as client``: it borrows the ``httpx.AsyncClient``
    that every AtlasAsyncClient of the running loop with the same connection settings shares
    (see :class:`~airflow_provider_atlas_restore.client.async_pool.AsyncClientPool`), so a
    triggerer's triggers share one pool of connections and one Digest nonce. Requests come from
    the same :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests` as the sync hook and
    answers go through the same :func:`~airflow_provider_atlas_restore.api.responses.parse_answer` and
    :class:`~airflow_provider_atlas_restore.client.retry.RetryPolicy` (its tenacity controller is built
    at the first call, from ``retry``, ``sleep`` and ``logger``, and reused by later calls).

    :param config: the connection's settings.
    :param retry: the retry policy; defaults to the connection's.
    :param sleep: how to wait between retries (``asyncio.sleep``; tests inject their own).
    :param logger: where retries are logged.
    """

    def __init__(
        self,
        config: AtlasConnectionConfig,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        logger: logging.Logger | Any = log,
    ) -> None:
        self.config = config
        self.api = AtlasRequests(config.api_version)
        self.retry = retry or config.retry
        self.sleep = sleep
        self.log = logger
        self._shared: SharedAsyncClient | None = None
        self._retrying: tenacity.AsyncRetrying | None = None
        self._runs = 0
        self.tokens = (
            shared_token_cache(config.base_url, config.login, config.password)
            if config.auth_type == SERVICE_ACCOUNT
            else TokenCache()
        )

    async def __aenter__(self) -> AtlasAsyncClient:
        if self._shared is not None:
            raise RuntimeError("AtlasAsyncClient is already in use: enter it once at a time")
        self._shared = async_client_pool.borrow(self.config)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            await async_client_pool.give_back(shared)

    async def run(self, request: ApiRequest, *, authorize: bool = True) -> Any:
        """
        Send ``request`` with retries and return the parsed answer, or raise ``AtlasApiError``.

        :param request: a request built by :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests`.
        :param authorize: send the service account's bearer token (``False`` for the token request).
        """
        if self._retrying is None:
            self._retrying = self.retry.async_retrying(log=self.log, sleep=self.sleep)
        # A tenacity controller keeps per-call bookkeeping in thread-local (not task-local) state, so
        # a call made while another is in flight (the token request inside a call) gets a copy.
        retrying = self._retrying if self._runs == 0 else self._retrying.copy()
        self._runs += 1
        try:
            return await retrying(self._send_once, request, authorize)
        finally:
            self._runs -= 1

    async def _fetch_token(self) -> AccessToken:
        token: AccessToken = await self.run(token_request(self.config), authorize=False)
        return got_token(token, self.config, self.log)

    async def _send_once(self, request: ApiRequest, authorize: bool = True) -> Any:
        return await arun_flow(
            call_flow(request, self.tokens, bearer=uses_bearer(self.config, authorize)),
            lambda: self.tokens.aget(self._fetch_token),
            lambda headers: self._send(request, headers),
        )

    async def _send(self, request: ApiRequest, headers: dict[str, str]) -> Answer:
        """
        Send one attempt of ``request`` with ``headers``; return its answer or raise the provider's error.

        As in the sync driver: no redirect is followed, the body is read in chunks up to
        :data:`~airflow_provider_atlas_restore.api.responses.MAX_ANSWER_BYTES`, and the attempt (from
        sending to the last byte) has a deadline of
        :attr:`~airflow_provider_atlas_restore.client.config.AtlasConnectionConfig.attempt_deadline`
        (connect plus read timeout), past which it fails like a timeout.
        """
        if self._shared is None:
            raise RuntimeError("AtlasAsyncClient is used outside 'async with'")
        try:
            # wait_for, not asyncio.timeout: Python 3.10 is supported; its TimeoutError is asyncio's.
            return await asyncio.wait_for(
                self._exchange(self._shared, request, headers), self.config.attempt_deadline
            )
        except (asyncio.TimeoutError, *HTTP_CLIENT_ERRORS) as error:
            raise attempt_failure(error, request, self.config) from None

    async def _exchange(
        self, shared: SharedAsyncClient, request: ApiRequest, headers: dict[str, str]
    ) -> Answer:
        """Send ``request`` with ``headers`` through ``shared`` and read its whole answer, decoded and capped."""
        async with shared.stream(
            request.method, request.url(self.config.base_url), headers=headers, content=request.content
        ) as response:
            body = AnswerBuffer(request, response.status_code)
            decoder = AnswerDecoder(response.headers.get("Content-Encoding"))
            async for chunk in response.aiter_raw():
                decoder.feed(chunk, body)
            return Answer(response.status_code, response.headers, decoder.finish(body))

    async def get_object(self, request: ApiRequest) -> dict[str, Any]:
        """
        Send a read of one resource and return it, or raise ``AtlasResponseError`` when it is not a JSON object.

        :param request: a request built by :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests`.
        """
        return expect_mapping(request, 200, await self.run(request))

    async def get_restore_job(
        self, group_id: str, cluster_name: str, restore_job_id: str, *, cluster_kind: str = "dedicated"
    ) -> dict[str, Any]:
        """
        Return one restore job, of a dedicated cluster or (``cluster_kind="flex"``) a flex one.

        :param group_id: the project id.
        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param cluster_kind: ``"dedicated"`` or ``"flex"``, as the task found it (no detection here).
        """
        if cluster_kind == "flex":
            request = self.api.get_flex_restore_job_request(group_id, cluster_name, restore_job_id)
        else:
            request = self.api.get_restore_job_request(group_id, cluster_name, restore_job_id)
        return await self.get_object(request)
