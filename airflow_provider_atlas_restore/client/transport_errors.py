"""Why no answer came from Atlas, in words, for both HTTP clients and without any URL in them."""

from __future__ import annotations

import re

import httpx
import requests
import urllib3

from airflow_provider_atlas_restore.api.responses import AnswerDecodingError
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasTransportError

#: Every exception the HTTP clients raise for a request or its answer: each becomes an
#: :class:`AtlasApiError` (``urllib3`` ones escape ``requests`` while a streamed body is read;
#: :class:`AnswerDecodingError` comes from the body decoder both clients share).
HTTP_CLIENT_ERRORS = (
    AnswerDecodingError,
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
)
#: Failures that no later attempt can cure: the request itself cannot be sent as it is.
_PERMANENT_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
    requests.exceptions.TooManyRedirects,
    urllib3.exceptions.LocationValueError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.InvalidURL,
    httpx.TooManyRedirects,
    httpx.StreamError,
)
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


def describe_transport_error(error: BaseException, read_timeout: float) -> str:
    """
    Return why no answer came, without the URL that ``requests`` and ``httpx`` put in messages.

    Download links are secret, so the exception text itself is never passed on.

    :param error: a ``requests``, ``urllib3`` or ``httpx`` exception.
    :param read_timeout: the read timeout in force, for the message.
    """
    if isinstance(error, (requests.exceptions.ConnectTimeout, httpx.ConnectTimeout)):
        return "timed out connecting"
    if isinstance(
        error, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, httpx.ReadTimeout)
    ):
        return f"no answer within the read timeout of {read_timeout:g} s"
    if isinstance(
        error,
        (
            AnswerDecodingError,
            requests.exceptions.ContentDecodingError,
            urllib3.exceptions.DecodeError,
            httpx.DecodingError,
        ),
    ):
        return "the answer could not be decoded (its Content-Encoding does not match its bytes)"
    if isinstance(
        error,
        (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            httpx.RemoteProtocolError,
        ),
    ):
        return "the answer was cut short"
    if isinstance(error, _PERMANENT_ERRORS):
        return f"the request could not be sent ({type(error).__name__})"
    errno_text = _ERRNO_TEXT.search(str(error))
    if errno_text:
        return f"connection failed: {errno_text.group(0).strip()}"
    return "the connection closed without an answer"


def failed_before_sending(error: BaseException) -> bool:
    """
    Return whether the request surely never reached the server (no connection was made).

    Only then can a request that is not idempotent, such as creating a restore job, be repeated.

    :param error: a ``requests`` or ``httpx`` exception.
    """
    # httpx.PoolTimeout: no connection of the client's pool became free, so nothing was sent.
    if isinstance(
        error,
        (requests.exceptions.ConnectTimeout, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout),
    ):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        cause = error.args[0] if error.args else None
        reason = getattr(cause, "reason", cause)
        return type(reason).__name__ in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")
    return False


def transport_failure(
    error: BaseException, *, method: str, path: str, base_url: str, read_timeout: float
) -> AtlasApiError:
    """
    Return the provider's error for an exception of either HTTP client (one of :data:`HTTP_CLIENT_ERRORS`).

    A lost, cut or garbled answer is an :class:`AtlasTransportError` (retried, like a 502); a
    request that cannot be sent at all (an invalid URL, say) is a plain :class:`AtlasApiError`.

    :param error: the exception.
    :param method: the request's HTTP method.
    :param path: the request's path (never the query, which may be secret).
    :param base_url: the Atlas base URL, for the message.
    :param read_timeout: the read timeout in force, for the message.
    """
    detail = f"{describe_transport_error(error, read_timeout)} ({base_url})"
    if isinstance(error, _PERMANENT_ERRORS):
        return AtlasApiError(status=None, method=method, path=path, detail=detail)
    failure = AtlasTransportError(status=None, method=method, path=path, detail=detail)
    failure.request_sent = not failed_before_sending(error)
    return failure


def deadline_failure(*, method: str, path: str, base_url: str, deadline: float) -> AtlasTransportError:
    """
    Return the error of an attempt that got no complete answer within its deadline (retried).

    :param method: the request's HTTP method.
    :param path: the request's path.
    :param base_url: the Atlas base URL, for the message.
    :param deadline: the attempt's deadline in seconds.
    """
    return AtlasTransportError(
        status=None,
        method=method,
        path=path,
        detail=(
            f"no complete answer within {deadline:g} s, the deadline of one attempt "
            f"(the connection's connect timeout plus its read timeout) ({base_url})"
        ),
    )
