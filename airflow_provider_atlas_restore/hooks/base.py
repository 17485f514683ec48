"""The base of AtlasHook: the connection, one authorised session, retries and errors."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from airflow.providers.common.compat.sdk import BaseHook, mask_secret
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasApi
from airflow_provider_atlas_restore.api.paging import Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import (
    ACCEPT_ENCODING,
    AccessToken,
    AnswerBuffer,
    AnswerDecoder,
    expect_mapping,
    parse_answer,
)
from airflow_provider_atlas_restore.api.validation import MAX_ITEMS_PER_PAGE, validate_object_id
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.retry import RetryPolicy, is_retryable
from airflow_provider_atlas_restore.client.tokens import (
    DIGEST,
    SERVICE_ACCOUNT,
    TokenCache,
    masked_token_request,
    shared_token_cache,
)
from airflow_provider_atlas_restore.client.transport_errors import (
    HTTP_CLIENT_ERRORS,
    deadline_failure,
    transport_failure,
)
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import AtlasInputError

#: Bytes asked for by each read of an answer's body.
_READ_SIZE = 64 * 1024
_NO_AUTH = lambda request: request  # noqa: E731 - a no-op auth: requests then skips ~/.netrc

#: Retries of ``test_connection``, which answers a person waiting in the UI.
TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, initial_wait=1.0, max_wait=2.0, max_total_wait=5.0)
#: Projects ``test_connection`` counts at most (ten pages) when the connection has no default project.
TEST_CONNECTION_MAX_PROJECTS = 5000


class AtlasBaseHook(BaseHook):
    """
    The connection, session, retries and errors that the Atlas hooks share.

    The API calls, and the documentation of the arguments, live in
    :class:`~airflow_provider_atlas_restore.hooks.atlas.AtlasHook`.
    """

    conn_name_attr = "atlas_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "mongodb_atlas"
    hook_name = "MongoDB Atlas"

    def __init__(
        self,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        *,
        api_version: str | None = None,
        timeout: float | None = None,
        retry_max_attempts: int | None = None,
        retry_initial_wait: float | None = None,
        retry_max_wait: float | None = None,
        retry_max_total_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.atlas_conn_id = atlas_conn_id
        self._overrides: dict[str, Any] = {
            "api_version": api_version,
            "timeout": timeout,
            "retry_max_attempts": retry_max_attempts,
            "retry_initial_wait": retry_initial_wait,
            "retry_max_wait": retry_max_wait,
            "retry_max_total_wait": retry_max_total_wait,
        }
        self._session: requests.Session | None = None
        #: How the hook waits between retries; tests replace it so nothing really sleeps.
        self.sleep: Callable[[float], None] = time.sleep

    @cached_property
    def config(self) -> AtlasConnectionConfig:
        """Return the connection's settings, with this hook's overrides applied."""
        connection = self.get_connection(self.atlas_conn_id)
        config = AtlasConnectionConfig.from_connection(connection, self.conn_type)
        mask_secret(config.password)
        overrides = {key: value for key, value in self._overrides.items() if value is not None}
        changes: dict[str, Any] = {}
        if "api_version" in overrides:
            changes["api_version"] = AtlasApi(overrides["api_version"]).api_version
        if "timeout" in overrides:
            timeout = overrides["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise AtlasInputError(f"timeout={timeout!r} is not allowed: use a number of seconds > 0.")
            changes["read_timeout"] = float(timeout)
        if any(key.startswith("retry_") for key in overrides):
            retry_settings = {
                key: getattr(config.retry, field_name) for key, field_name in RetryPolicy.EXTRA_KEYS.items()
            }
            retry_settings.update({k: v for k, v in overrides.items() if k.startswith("retry_")})
            changes["retry"] = RetryPolicy.from_settings(retry_settings)
        if changes:
            config = replace(config, **changes)
        return config

    @cached_property
    def api(self) -> AtlasApi:
        """Return the request builder for the configured API version."""
        return AtlasApi(self.config.api_version)

    def get_conn(self) -> requests.Session:
        """Return the hook's session, created once with its Digest auth, TLS and proxy settings."""
        if self._session is None:
            config = self.config
            session = requests.Session()
            if config.auth_type == DIGEST:
                session.auth = _CappedDigestAuth(config.login, config.password)
            else:  # a bearer token per request; never ~/.netrc credentials
                session.auth = _NO_AUTH
            session.verify = config.verify
            session.proxies.update(config.proxies)
            session.headers["User-Agent"] = f"airflow-provider-atlas-restore/{_version()}"
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what AnswerDecoder inflates
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def resolve_group_id(self, group_id: str | None) -> str:
        """
        Return ``group_id``, or the connection's ``group_id`` extra when it is not given.

        :param group_id: the project id given by the caller, or ``None``.
        """
        resolved = group_id or self.config.group_id
        if not resolved:
            raise AtlasInputError(
                f"No Atlas project id: pass group_id, or set the group_id extra of connection "
                f"{self.atlas_conn_id!r}."
            )
        return validate_object_id(resolved, "group_id")

    @cached_property
    def tokens(self) -> TokenCache:
        """Return the process-wide token cache of this connection's service account."""
        config = self.config
        return shared_token_cache(config.base_url, config.login, config.password)

    def _fetch_token(self, retry: RetryPolicy | None = None) -> AccessToken:
        config = self.config
        request = masked_token_request(config.login, config.password)
        token: AccessToken = self.run(request, retry=retry, authorize=False)
        self.log.info("Got a service-account token for %s", config.login)
        return token

    def run(
        self,
        request: ApiRequest,
        *,
        retry: RetryPolicy | None = None,
        retry_if: Callable[[BaseException], bool] = is_retryable,
        authorize: bool = True,
    ) -> Any:
        """
        Send ``request`` with retries and return the parsed answer, or raise :class:`AtlasApiError`.

        :param request: a request built by :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasApi`.
        :param retry: the retry policy for this call; defaults to the connection's.
        :param retry_if: which errors are worth another attempt; by default transient ones.
        :param authorize: send the service account's bearer token (``False`` for the token request).
        """
        retrying = (retry or self.config.retry).retrying(log=self.log, sleep=self.sleep, retry_if=retry_if)
        return retrying(self._send_once, request, authorize)

    def _send_once(self, request: ApiRequest, authorize: bool = True) -> Any:
        bearer = authorize and self.config.auth_type == SERVICE_ACCOUNT
        token = self.tokens.get(self._fetch_token) if bearer else None
        status, headers, content = self._send(request, token)
        if bearer and token is not None and status == 401:
            # The server expired the token before we expected: renew it once and retry once.
            self.tokens.invalidate(token)
            status, headers, content = self._send(request, self.tokens.get(self._fetch_token))
        return parse_answer(request, status, headers, content)

    def _send(self, request: ApiRequest, token: str | None) -> tuple[int, Mapping[str, str], bytes]:
        """
        Send one attempt of ``request``; return the status, headers and body of the answer.

        Redirects are never followed; the body is read in chunks up to
        :data:`~airflow_provider_atlas_restore.api.responses.MAX_ANSWER_BYTES`; the connection's
        ``verify`` is passed with the request, so ``REQUESTS_CA_BUNDLE`` cannot override it; and the
        attempt has a deadline of :attr:`AtlasConnectionConfig.attempt_deadline` (connect plus read
        timeout) from sending to the last byte, past which it fails like a timeout.
        """
        config = self.config
        headers = dict(request.headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        deadline = time.monotonic() + config.attempt_deadline
        try:
            response = self.get_conn().request(
                request.method,
                request.url(config.base_url),
                headers=headers,
                data=request.content,
                timeout=(config.connect_timeout, config.read_timeout),
                verify=config.verify,
                allow_redirects=False,
                stream=True,
            )
            connection = getattr(response.raw, "connection", None)
            try:
                content = _read_body(response, getattr(connection, "sock", None), request, deadline, config)
            except BaseException:
                # Drop the connection, even when its pool already has it back: the answer was
                # not read to its end, or it was garbled, so the connection is not to be reused.
                response.close()
                if connection is not None:
                    connection.close()
                raise
            response.raw.release_conn()  # read to its end: the connection can serve the next call
            return response.status_code, response.headers, content
        except _DeadlinePassed:
            raise deadline_failure(
                method=request.method,
                path=request.path,
                base_url=config.base_url,
                deadline=config.attempt_deadline,
            ) from None
        except HTTP_CLIENT_ERRORS as error:
            raise transport_failure(
                error,
                method=request.method,
                path=request.path,
                base_url=config.base_url,
                read_timeout=config.read_timeout,
            ) from None

    def get_project(self, group_id: str | None = None, *, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """
        Return the project (group) as Atlas describes it.

        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param retry: the retry policy for this call; defaults to the connection's.
        """
        request = self.api.get_project(self.resolve_group_id(group_id))
        return expect_mapping(request, 200, self.run(request, retry=retry))

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the credentials with real calls and say which step failed.

        A service account first gets a token. Then, with a default project (the ``group_id``
        extra), the project is read; without one, the projects the key can see are listed and
        counted. Messages never name the connection id: the UI's Test button uses a temporary one.
        """
        try:
            group_id = self.config.group_id
            uses_token = self.config.auth_type == SERVICE_ACCOUNT
            if group_id is not None:
                validate_object_id(group_id, "group_id")
        except Exception as error:
            return False, self._without_conn_id(f"{type(error).__name__}: {error}")
        # Someone is waiting on the form: one quick retry, not minutes of backoff.
        if uses_token:
            try:
                self.tokens.get(lambda: self._fetch_token(TEST_CONNECTION_RETRY))
            except Exception as error:
                return False, self._without_conn_id(f"Could not get a service-account token: {error}")
        try:
            if group_id is None:
                count, more = self._count_projects()
            else:
                project = self.get_project(group_id, retry=TEST_CONNECTION_RETRY)
        except Exception as error:
            step = (
                "Got a service-account token, but the API call failed"
                if uses_token
                else "The API call failed"
            )
            return False, self._without_conn_id(f"{step}: {error}")
        version = self.config.api_version
        if group_id is None:
            counted = f"{count}+" if more else str(count)
            noun = "project" if count == 1 and not more else "projects"
            return True, (
                f"Connected to Atlas with API {version}: the credentials can see {counted} {noun}. "
                "No default project (group_id extra) is set, so tasks must pass group_id."
            )
        name = project.get("name", group_id)
        return True, f"Connected to Atlas project {name!r} ({group_id}) with API {version}."

    def _count_projects(self) -> tuple[int, bool]:
        """Count the projects the credentials can see (``GET /groups``, every page up to a cap).

        Returns the count and whether more projects exist beyond the cap.
        """
        items_per_page = MAX_ITEMS_PER_PAGE

        def fetch_page(page_num: int) -> Page:
            request = self.api.list_projects(page_num=page_num, items_per_page=items_per_page)
            return Page.from_body(
                request, self.run(request, retry=TEST_CONNECTION_RETRY), page_num, items_per_page
            )

        projects = UniqueItems(fetch_page, max_items=TEST_CONNECTION_MAX_PROJECTS + 1, path="/groups")
        count = sum(1 for _ in projects)
        return min(count, TEST_CONNECTION_MAX_PROJECTS), count > TEST_CONNECTION_MAX_PROJECTS

    def _without_conn_id(self, message: str) -> str:
        """Drop the connection id from a message (the Test button's id is random and temporary)."""
        return message.replace(f"connection {self.atlas_conn_id!r}", "the connection").replace(
            self.atlas_conn_id, "the connection"
        )


def _read_body(
    response: requests.Response,
    sock: socket.socket | None,
    request: ApiRequest,
    deadline: float,
    config: AtlasConnectionConfig,
) -> bytes:
    """
    Read and decode a streamed answer's body until its end, the size cap or the deadline.

    Each read returns what has arrived (``read1``), and the socket waits no longer than the time
    left, so a trickle stops at the deadline rather than one read timeout per byte.
    """
    body = AnswerBuffer(request, response.status_code)
    decoder = AnswerDecoder(response.headers.get("Content-Encoding"))
    raw = response.raw
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _DeadlinePassed
        if sock is not None:
            sock.settimeout(min(config.read_timeout, left))
        try:
            chunk = raw.read1(_READ_SIZE, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            if left < config.read_timeout:  # the wait was cut to the deadline, which has passed
                raise _DeadlinePassed from None
            raise
        if not chunk:
            return decoder.finish(body)
        decoder.feed(chunk, body)


class _CappedDigestAuth(HTTPDigestAuth):
    """requests' Digest auth, except that a challenge's body is read within the answer size cap."""

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """
        Read the 401's body through the shared cap, then answer the challenge as requests does.

        :param r: the 401 answer (its body not read yet: the hook streams).
        :param kwargs: what requests passes on to the repeated request.
        """
        # requests answers only a Digest challenge, and twice at most: only then is the body read here.
        answers = (
            r.status_code == 401
            and "digest" in r.headers.get("www-authenticate", "").lower()
            and getattr(getattr(self, "_thread_local", None), "num_401_calls", 2) < 2
        )
        if answers and not r._content_consumed:  # type: ignore[attr-defined]
            request = ApiRequest(method=r.request.method or "GET", path=urlsplit(r.request.url or "").path)
            body = AnswerBuffer(request, r.status_code)
            decoder = AnswerDecoder(r.headers.get("Content-Encoding"))
            try:
                while chunk := r.raw.read1(_READ_SIZE, decode_content=False):
                    decoder.feed(chunk, body)
                content = decoder.finish(body)
            except BaseException:
                r.close()  # not read to its end: drop the connection
                raise
            # requests' own handler reads r.content: hand it the body read here.
            r._content, r._content_consumed = content, True  # type: ignore[attr-defined]
        answered: requests.Response = super().handle_401(r, **kwargs)
        return answered


class _DeadlinePassed(Exception):
    """The attempt's deadline passed while its answer was being read."""


def _version() -> str:
    from airflow_provider_atlas_restore import __version__

    return __version__
