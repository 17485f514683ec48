"""The blocking driver of the send path: one ``requests`` session, one attempt read to its end, capped."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.api.endpoints import ApiRequest
from airflow_provider_atlas_restore.api.responses import ACCEPT_ENCODING, AnswerBuffer, AnswerDecoder
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.tokens import DIGEST
from airflow_provider_atlas_restore.client.transport import (
    USER_AGENT,
    Answer,
    AttemptDeadlinePassed,
    attempt_failure,
)
from airflow_provider_atlas_restore.client.transport_errors import HTTP_CLIENT_ERRORS

__all__ = ["NoCredentials", "api_session", "plain_session", "send_attempt"]

#: Bytes asked for by each read of an answer's body.
_READ_SIZE = 64 * 1024


class NoCredentials(requests.auth.AuthBase):
    """Send no credentials, and keep ``requests`` from adding any from ``~/.netrc``."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def plain_session(config: AtlasConnectionConfig) -> requests.Session:
    """
    Return a session with the connection's TLS and proxy settings, the User-Agent and no credentials.

    :param config: the connection's settings.
    """
    session = requests.Session()
    session.auth = NoCredentials()
    session.verify = config.verify
    session.proxies.update(config.proxies)
    session.headers["User-Agent"] = USER_AGENT
    return session


def api_session(config: AtlasConnectionConfig) -> requests.Session:
    """
    Return the API session: Digest auth (its nonce kept), or none for a bearer token per request.

    :param config: the connection's settings.
    """
    session = plain_session(config)
    if config.auth_type == DIGEST:
        session.auth = _CappedDigestAuth(config.login, config.password)
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what AnswerDecoder inflates
    return session


def send_attempt(
    session: requests.Session, config: AtlasConnectionConfig, request: ApiRequest, headers: dict[str, str]
) -> Answer:
    """
    Send one attempt of ``request`` with ``headers``; return its answer or raise the provider's error.

    Redirects are never followed; the body is read in chunks up to
    :data:`~airflow_provider_atlas_restore.api.responses.MAX_ANSWER_BYTES`; the connection's
    ``verify`` is passed with the request, so ``REQUESTS_CA_BUNDLE`` cannot override it; and the
    attempt has a deadline of :attr:`AtlasConnectionConfig.attempt_deadline` (connect plus read
    timeout) from sending to the last byte, past which it fails like a timeout.

    :param session: the API session (see :func:`api_session`).
    :param config: the connection's settings.
    :param request: the request to send.
    :param headers: the attempt's headers (the request's, and a bearer token).
    """
    deadline = time.monotonic() + config.attempt_deadline
    try:
        response = session.request(
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
        return Answer(response.status_code, response.headers, content)
    except (AttemptDeadlinePassed, *HTTP_CLIENT_ERRORS) as error:
        raise attempt_failure(error, request, config) from None


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
            raise AttemptDeadlinePassed
        if sock is not None:
            sock.settimeout(min(config.read_timeout, left))
        try:
            chunk = raw.read1(_READ_SIZE, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            if left < config.read_timeout:  # the wait was cut to the deadline, which has passed
                raise AttemptDeadlinePassed from None
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
