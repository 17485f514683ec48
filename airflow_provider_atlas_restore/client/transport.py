"""
One send path for the sync hook and the async client: the bearer flow, run by either driver.

An API call is a generator (:func:`call_flow`), as in httpx's ``Auth.auth_flow``: it yields
:data:`NEED_TOKEN` when it wants the service account's bearer token, or the headers of an
attempt to send, and it is sent back the token or the :class:`Answer`. It renews a token that the
server refused (401) once, and parses the final answer. :func:`run_flow` drives it with blocking
callables (``requests``), :func:`arun_flow` with coroutines (``httpx``); neither knows the rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from airflow_provider_atlas_restore import __version__
from airflow_provider_atlas_restore.api.endpoints import ApiRequest
from airflow_provider_atlas_restore.api.responses import AccessToken, parse_answer
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.tokens import SERVICE_ACCOUNT, TokenCache, masked_token_request
from airflow_provider_atlas_restore.client.transport_errors import (
    HTTP_CLIENT_ERRORS,
    deadline_failure,
    transport_failure,
)
from airflow_provider_atlas_restore.exceptions import AtlasApiError

__all__ = [
    "NEED_TOKEN",
    "USER_AGENT",
    "Answer",
    "AttemptDeadlinePassed",
    "arun_flow",
    "attempt_failure",
    "call_flow",
    "got_token",
    "run_flow",
    "token_request",
    "uses_bearer",
]

#: The User-Agent of every request the provider sends: API calls, sync and async, and downloads.
USER_AGENT: Final = f"airflow-provider-atlas-restore/{__version__}"


@dataclass(frozen=True)
class Answer:
    """
    What one attempt received: the status, the headers and the whole body, decoded and capped.

    :param status: the HTTP status.
    :param headers: the answer's headers (a case-insensitive mapping from either HTTP client).
    :param content: the body.
    """

    status: int
    headers: Mapping[str, str]
    content: bytes


class _NeedToken:
    """The flow's request for the service account's current bearer token."""

    def __repr__(self) -> str:
        return "NEED_TOKEN"


#: Yielded by :func:`call_flow` when it wants a bearer token (send it back as a ``str``).
NEED_TOKEN: Final = _NeedToken()

#: What the flow yields: :data:`NEED_TOKEN`, or the headers of an attempt to send.
Step = _NeedToken | dict[str, str]
#: One API call as a generator: yields steps, is sent tokens and answers, returns the parsed answer.
CallFlow = Generator[Step, Any, Any]


def _attempt_headers(request: ApiRequest, token: str | None) -> dict[str, str]:
    headers = dict(request.headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def call_flow(request: ApiRequest, tokens: TokenCache, *, bearer: bool) -> CallFlow:
    """
    Return one attempt of an API call as a flow: token, send, renew a refused token once, parse.

    :param request: the request to send.
    :param tokens: the token cache whose refused token is invalidated.
    :param bearer: send the service account's bearer token.
    """
    token: str | None = (yield NEED_TOKEN) if bearer else None
    answer: Answer = yield _attempt_headers(request, token)
    if bearer and token is not None and answer.status == 401:
        # The server expired the token before we expected: renew it once and retry once.
        tokens.invalidate(token)
        token = yield NEED_TOKEN
        answer = yield _attempt_headers(request, token)
    return parse_answer(request, answer.status, answer.headers, answer.content)


def uses_bearer(config: AtlasConnectionConfig, authorize: bool) -> bool:
    """
    Return whether a call sends a bearer token: a service account's, unless ``authorize`` is off.

    :param config: the connection's settings.
    :param authorize: ``False`` for the token request itself.
    """
    return authorize and config.auth_type == SERVICE_ACCOUNT


def run_flow(flow: CallFlow, get_token: Callable[[], str], send: Callable[[dict[str, str]], Answer]) -> Any:
    """
    Drive ``flow`` with blocking callables and return what it returns.

    :param flow: what :func:`call_flow` returned.
    :param get_token: returns the current bearer token.
    :param send: sends one attempt with the given headers and returns its answer.
    """
    step = next(flow)
    while True:
        reply: Any = get_token() if isinstance(step, _NeedToken) else send(step)
        try:
            step = flow.send(reply)
        except StopIteration as done:
            return done.value


async def arun_flow(
    flow: CallFlow,
    get_token: Callable[[], Awaitable[str]],
    send: Callable[[dict[str, str]], Awaitable[Answer]],
) -> Any:
    """
    Drive ``flow`` with coroutines and return what it returns.

    :param flow: what :func:`call_flow` returned.
    :param get_token: returns the current bearer token.
    :param send: sends one attempt with the given headers and returns its answer.
    """
    step = next(flow)
    while True:
        reply: Any = await get_token() if isinstance(step, _NeedToken) else await send(step)
        try:
            step = flow.send(reply)
        except StopIteration as done:
            return done.value


def token_request(config: AtlasConnectionConfig) -> ApiRequest:
    """
    Return the service account's token request (its secret registered with the masker).

    :param config: the connection's settings.
    """
    return masked_token_request(config.login, config.password)


def got_token(token: AccessToken, config: AtlasConnectionConfig, log: logging.Logger | Any) -> AccessToken:
    """
    Log that a token was fetched and return it.

    :param token: what the token request's answer parsed to.
    :param config: the connection's settings.
    :param log: where to log.
    """
    log.info("Got a service-account token for %s", config.login)
    return token


class AttemptDeadlinePassed(Exception):
    """The attempt's deadline passed while its answer was being read."""


def attempt_failure(
    error: BaseException, request: ApiRequest, config: AtlasConnectionConfig
) -> AtlasApiError:
    """
    Return the provider's error for an attempt that failed in either HTTP client, or re-raise ``error``.

    A passed deadline (:class:`AttemptDeadlinePassed`, or asyncio's ``TimeoutError``) is a
    retried timeout; an HTTP client's error is mapped by
    :func:`~airflow_provider_atlas_restore.client.transport_errors.transport_failure`.

    :param error: what the attempt raised.
    :param request: the request sent.
    :param config: the connection's settings.
    """
    if isinstance(error, (AttemptDeadlinePassed, asyncio.TimeoutError)):
        return deadline_failure(
            method=request.method,
            path=request.path,
            base_url=config.base_url,
            deadline=config.attempt_deadline,
        )
    if isinstance(error, HTTP_CLIENT_ERRORS):
        return transport_failure(
            error,
            method=request.method,
            path=request.path,
            base_url=config.base_url,
            read_timeout=config.read_timeout,
        )
    raise error
