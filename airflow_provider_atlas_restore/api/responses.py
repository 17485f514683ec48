"""
How answers from the Atlas Administration API are read: success bodies, envelopes, errors, tokens.

The one place that knows the error body and the envelope. The sync hook (``requests``) and the
async client (``httpx``) read each body's raw bytes through :class:`AnswerDecoder` into an
:class:`AnswerBuffer` (at most :data:`MAX_ANSWER_BYTES` decoded), and hand the status, headers
and bytes to :func:`parse_answer`. A redirect is an error here: no client follows one.
"""

from __future__ import annotations

import base64
import contextlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_atlas_restore.api.endpoints import OAUTH_TOKEN_PATH
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest

# How much of a non-JSON error body (an HTML page from a proxy) goes into the message.
_EXCERPT_LENGTH = 200
# How much of a token endpoint's ``error_description`` goes into the message.
_TOKEN_DESCRIPTION_LENGTH = 120

#: The most bytes of one API answer's decoded body that a client reads: 4 MiB. The largest
#: answers are list pages: 500 restore jobs (the most a page holds) are well under 2 MB, so this
#: leaves twice that as a margin, while a huge, endless or gzip-bomb answer stops at 4 MiB.
MAX_ANSWER_BYTES = 4 << 20


class AnswerBuffer:
    """
    One answer's decoded body, read in chunks; refuses to grow past ``limit`` bytes.

    Both clients feed it the decoded chunks they read, and stop reading when it raises.

    :param request: the request being answered, for the error.
    :param status: the answer's HTTP status.
    :param limit: the most bytes kept; :data:`MAX_ANSWER_BYTES` unless told.
    """

    def __init__(self, request: ApiRequest, status: int, limit: int = MAX_ANSWER_BYTES) -> None:
        self.request = request
        self.status = status
        self.limit = limit
        self.size = 0
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        """
        Keep ``chunk``, or raise :class:`AtlasResponseError` when the body would pass the limit.

        :param chunk: the next decoded bytes of the body.
        """
        self.size += len(chunk)
        if self.size > self.limit:
            raise AtlasResponseError(
                status=self.status,
                method=self.request.method,
                path=self.request.path,
                detail=(
                    f"the answer is larger than the {self.limit / (1 << 20):g} MiB that an Atlas API "
                    "answer may be (MAX_ANSWER_BYTES): reading stopped there"
                ),
            )
        self._chunks.append(chunk)

    @property
    def content(self) -> bytes:
        """Return the body read so far."""
        return b"".join(self._chunks)


#: The ``Accept-Encoding`` both clients send: only what :class:`AnswerDecoder` can inflate.
ACCEPT_ENCODING = "gzip, deflate"
#: The most bytes one step of inflating gives, so a gzip bomb never inflates in one piece.
_INFLATE_STEP = 64 * 1024


class AnswerDecodingError(Exception):
    """An answer's body does not match its ``Content-Encoding`` (garbled, or an encoding not asked for)."""


class AnswerDecoder:
    """
    Inflate an answer's body as its ``Content-Encoding`` says, a bounded step at a time, into an :class:`AnswerBuffer`.

    Both clients read the raw bytes and decode them here, so the size cap holds on the decoded
    body however well it compresses.

    :param content_encoding: the answer's ``Content-Encoding`` header, if any.
    """

    def __init__(self, content_encoding: str | None) -> None:
        codings = [part.strip().lower() for part in (content_encoding or "").split(",")]
        codings = [coding for coding in codings if coding and coding != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise AnswerDecodingError(f"Content-Encoding {content_encoding!r} was not asked for")
        # wbits 32 + 15: a gzip or a zlib header, detected from the first bytes.
        self._inflater = zlib.decompressobj(32 + zlib.MAX_WBITS) if codings else None

    def feed(self, data: bytes, body: AnswerBuffer) -> None:
        """
        Decode ``data``, the next raw bytes of the body, into ``body``.

        :param data: raw bytes as they arrived.
        :param body: where the decoded bytes go (it raises past its limit).
        """
        if self._inflater is None:
            body.add(data)
            return
        while data:
            try:
                body.add(self._inflater.decompress(data, _INFLATE_STEP))
            except zlib.error as error:
                raise AnswerDecodingError(str(error)) from None
            data = self._inflater.unconsumed_tail

    def finish(self, body: AnswerBuffer) -> bytes:
        """
        Return the whole decoded body once the raw body has ended.

        :param body: the buffer given to :meth:`feed`.
        """
        if self._inflater is not None:
            try:
                body.add(self._inflater.flush())  # at most what one last step held back
            except zlib.error as error:
                raise AnswerDecodingError(str(error)) from None
        return body.content


def redirect_target(location: str | None) -> str:
    """
    Return the scheme, host and port a ``Location`` points to, never its path or query.

    :param location: the ``Location`` header, if any.
    """
    if not location:
        return "no Location"
    try:
        parts = urlsplit(location.strip())
        port = parts.port
    except ValueError:
        return "an invalid Location"
    if not parts.scheme or not parts.hostname:
        return "another path on the same host"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}" if port else f"{parts.scheme}://{host}"


def _without_credentials(text: str, request: ApiRequest) -> str:
    """Return ``text`` with the request's Basic credential, encoded or decoded, replaced by ``***``."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return text
    secrets = [encoded]
    with contextlib.suppress(ValueError):  # not base64: only the encoded form can be echoed
        secrets.append(base64.b64decode(encoded).decode().partition(":")[2])
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None) -> float | None:
    """
    Return the seconds a ``Retry-After`` header asks to wait, or ``None``.

    :param value: the header value: delta-seconds or an HTTP date.
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    now = datetime.now(timezone.utc)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def _excerpt(content: bytes) -> str:
    text = content.decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_LENGTH else text[:_EXCERPT_LENGTH] + "..."


def _decode_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def error_from_response(
    request: ApiRequest, status: int, headers: Mapping[str, str], content: bytes
) -> AtlasApiError:
    """
    Return the :class:`AtlasApiError` for a non-success answer, JSON or not.

    :param request: the request that was answered.
    :param status: the HTTP status.
    :param headers: the answer's headers (case-insensitive mapping).
    :param content: the raw body.
    """
    if 300 <= status < 400:
        return AtlasApiError(
            status=status,
            method=request.method,
            path=request.path,
            detail=(
                f"the answer redirects to {redirect_target(headers.get('Location'))}; Atlas API calls "
                "never follow redirects (they would carry the credentials elsewhere): check the "
                "connection's host, port and scheme"
            ),
        )
    if request.path == OAUTH_TOKEN_PATH:
        return _token_error(request, status, headers, content)
    body = _decode_json(content)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if isinstance(body, Mapping) and isinstance(body.get("content"), Mapping) and "status" in body:
        body = body["content"]  # an enveloped error
    if not isinstance(body, Mapping):
        return AtlasApiError(
            status=status,
            method=request.method,
            path=request.path,
            error_code=headers.get("X-Error-Code"),
            detail=f"non-JSON answer: {_excerpt(content)}" if content.strip() else None,
            retry_after=retry_after,
        )
    parameters = body.get("parameters")
    error_code = body.get("errorCode") or headers.get("X-Error-Code")
    if isinstance(body.get("error"), str):  # an OAuth error: {"error": "invalid_client", ...}
        error_code = error_code or body["error"]
        body = {**body, "detail": body.get("detail") or body.get("error_description")}
    return AtlasApiError(
        status=status,
        method=request.method,
        path=request.path,
        error_code=str(error_code) if error_code else None,
        detail=str(body["detail"]) if body.get("detail") is not None else None,
        reason=str(body["reason"]) if body.get("reason") is not None else None,
        parameters=parameters if isinstance(parameters, list) else None,
        retry_after=retry_after,
        body=body,
    )


def _token_error(
    request: ApiRequest, status: int, headers: Mapping[str, str], content: bytes
) -> AtlasApiError:
    """
    Return the error of a token-endpoint answer: only its OAuth ``error`` and a short description.

    Proxies and firewalls echo request headers in their error pages, and the token request's
    carry the client secret, so nothing else of the body is ever quoted or kept.
    """
    body = _decode_json(content)
    code = description = None
    if isinstance(body, Mapping):
        raw_code = body.get("error") or body.get("errorCode")
        code = _without_credentials(str(raw_code), request)[:_EXCERPT_LENGTH] if raw_code else None
        raw_description = body.get("error_description") or body.get("detail")
        if raw_description is not None:
            description = " ".join(_without_credentials(str(raw_description), request).split())
            if len(description) > _TOKEN_DESCRIPTION_LENGTH:
                description = description[:_TOKEN_DESCRIPTION_LENGTH] + "..."
    elif content.strip():
        description = "an answer that is not JSON (not quoted: it may echo the request's credentials)"
    return AtlasApiError(
        status=status,
        method=request.method,
        path=request.path,
        error_code=code or headers.get("X-Error-Code"),
        detail=description,
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )


def parse_response(request: ApiRequest, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    """
    Return the JSON of a success answer with any envelope removed, or raise :class:`AtlasApiError`.

    Unknown fields are kept: the caller sees everything Atlas sent.

    :param request: the request that was answered.
    :param status: the HTTP status.
    :param headers: the answer's headers.
    :param content: the raw body.
    """
    if not 200 <= status < 300:
        raise error_from_response(request, status, headers, content)
    if status == 204 or not content.strip():
        return None
    body = _decode_json(content)
    if body is None:
        raise AtlasResponseError(
            status=status,
            method=request.method,
            path=request.path,
            detail=(
                "the answer is not valid JSON"
                if request.path == OAUTH_TOKEN_PATH  # may echo the credentials: never quoted
                else f"the answer is not valid JSON: {_excerpt(content)}"
            ),
        )
    if request.envelope and isinstance(body, dict):
        body = _remove_envelope(request, status, headers, body)
    return body


def _remove_envelope(
    request: ApiRequest, status: int, headers: Mapping[str, str], body: dict[str, Any]
) -> Any:
    inner_status = body.get("status")
    if isinstance(inner_status, int) and not 200 <= inner_status < 300:
        raise error_from_response(request, inner_status, headers, json.dumps(body).encode())
    if "content" in body:
        return body["content"]
    return {key: value for key, value in body.items() if key != "status"}


def expect_mapping(request: ApiRequest, status: int, body: Any) -> dict[str, Any]:
    """
    Return ``body`` when it is a JSON object, else raise :class:`AtlasResponseError`.

    :param request: the request that was answered.
    :param status: the HTTP status of the answer.
    :param body: the parsed body.
    """
    if not isinstance(body, dict):
        raise AtlasResponseError(
            status=status,
            method=request.method,
            path=request.path,
            detail=f"expected a JSON object, got {type(body).__name__}",
        )
    return body


@dataclass(frozen=True)
class AccessToken:
    """
    A bearer token and how long it lives.

    :param value: the token (a secret: never shown in ``repr``).
    :param expires_in: seconds it is valid from when it was issued.
    """

    value: str = field(repr=False)
    expires_in: float


def parse_token_response(
    request: ApiRequest, status: int, headers: Mapping[str, str], content: bytes
) -> AccessToken:
    """
    Return the token of a token-endpoint answer, or raise :class:`AtlasApiError`.

    :param request: the token request.
    :param status: the HTTP status.
    :param headers: the answer's headers.
    :param content: the raw body.
    """
    body = expect_mapping(request, status, parse_response(request, status, headers, content))
    token = body.get("access_token")
    expires_in = body.get("expires_in", 3600)
    if not isinstance(token, str) or not token or str(body.get("token_type", "Bearer")).lower() != "bearer":
        raise AtlasResponseError(
            status=status, method=request.method, path=request.path, detail="the answer holds no bearer token"
        )
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in <= 0:
        expires_in = 3600
    return AccessToken(value=token, expires_in=float(expires_in))


def parse_answer(request: ApiRequest, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    """
    Read any answer: an :class:`AccessToken` from the token endpoint, else the parsed JSON.

    :param request: the request that was answered.
    :param status: the HTTP status.
    :param headers: the answer's headers.
    :param content: the raw body.
    """
    if request.path == OAUTH_TOKEN_PATH:
        return parse_token_response(request, status, headers, content)
    return parse_response(request, status, headers, content)
