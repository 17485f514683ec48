"""Why no answer came from Atlas, in words, for both HTTP clients and without any URL in them."""

from __future__ import annotations

import re

import httpx
import requests

#: ``requests`` exceptions that mean no usable answer arrived: worth another attempt.
REQUESTS_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


def describe_transport_error(error: BaseException, read_timeout: float) -> str:
    """
    Return why no answer came, without the URL that ``requests`` and ``httpx`` put in messages.

    Download links are secret, so the exception text itself is never passed on.

    :param error: a ``requests`` or ``httpx`` exception.
    :param read_timeout: the read timeout in force, for the message.
    """
    if isinstance(error, (requests.exceptions.ConnectTimeout, httpx.ConnectTimeout)):
        return "timed out connecting"
    if isinstance(error, (requests.exceptions.ReadTimeout, httpx.ReadTimeout)):
        return f"no answer within the read timeout of {read_timeout:g} s"
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, httpx.RemoteProtocolError)):
        return "the answer was cut short"
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
