"""How the downloader judges a download server's answer: its status, its length and its range."""

from __future__ import annotations

import logging
import re
from typing import Any

import requests

from airflow_provider_atlas_restore.api.responses import parse_retry_after
from airflow_provider_atlas_restore.client.retry import DOWNLOAD_RETRYABLE_STATUSES
from airflow_provider_atlas_restore.download.transfer import Interrupted, Transfer
from airflow_provider_atlas_restore.exceptions import AtlasDownloadError, CorruptDownloadError

__all__ = ["LINK_GONE_STATUSES", "LinkRefused", "accept_answer", "content_length", "length_proven"]

#: Statuses with which a download server says the link itself is no longer good (expired, spent).
LINK_GONE_STATUSES = (401, 403, 404, 410)
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)
_LINK_GONE_ADVICE = (
    "Atlas download links expire: a restore job's are single-use and last about an hour after the job "
    "is ready (give the task restore_job_id and cluster_name so it resolves fresh links, or create a "
    "new download restore job); a flex snapshot's snapshotUrl lasts four hours and the task asks for "
    "a fresh one itself, a few times at most."
)


class LinkRefused(AtlasDownloadError):
    """
    The download server refused the link itself (401, 403, 404, 410): a fresh link may cure it.

    :param message: what happened, naming the file (never the link).
    :param status: the HTTP status.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def content_length(response: requests.Response) -> int | None:
    """Return the answer's ``Content-Length``, or ``None`` when absent or unreadable."""
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def accept_answer(
    transfer: Transfer, response: requests.Response, offset: int, log: logging.Logger | Any
) -> None:
    """
    Check the status and headers of an answer and note the file's total length on ``transfer``.

    Raise :class:`~.transfer.Interrupted` for what another request may cure,
    :class:`LinkRefused` when the link is no longer good, :class:`AtlasDownloadError` otherwise.

    :param transfer: the file being downloaded.
    :param response: the answer to the GET (with ``Range`` when ``offset``).
    :param offset: the bytes already received, asked to resume after.
    :param log: where a restart from byte 0 is logged.
    """
    status = response.status_code
    if status == 200:
        if offset:
            log.warning(
                "The server ignored the Range request for %s (answered 200, not 206): "
                "starting again from byte 0",
                transfer.link.file_name,
            )
            transfer.restart()
        transfer.total = content_length(response)
        transfer.part.announce_size(transfer.total)
        return
    if status == 206:
        found = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not found:
            raise Interrupted("the server answered 206 without a usable Content-Range", restart=True)
        start, end, size = int(found.group(1)), int(found.group(2)), found.group(3)
        whole = int(size) if size != "*" else None
        known = transfer.total
        if start != offset or whole is None or end != whole - 1 or (known is not None and whole != known):
            raise Interrupted(
                f"the server resumed at bytes {start}-{end}/{size}, not at byte {offset} of the same file",
                restart=True,
            )
        transfer.total = whole
        transfer.part.announce_size(whole)
        return
    if status == 416 and offset:
        raise Interrupted("the server refused to resume (416)", restart=True)
    reason = f"HTTP {status} {response.reason or ''}".strip()
    if status in DOWNLOAD_RETRYABLE_STATUSES:
        raise Interrupted(reason, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status in LINK_GONE_STATUSES:
        raise LinkRefused(
            f"Download of {transfer.link.file_name} failed: {reason}. {_LINK_GONE_ADVICE}", status
        )
    raise AtlasDownloadError(
        f"Download of {transfer.link.file_name} failed: {reason}. The download server refused it."
    )


def length_proven(
    transfer: Transfer, response: requests.Response, offset: int, log: logging.Logger | Any
) -> bool:
    """
    Judge the answer to ``Range: bytes=<offset>-`` sent after a close-delimited body of ``offset`` bytes.

    Return ``True`` when a 416 with ``Content-Range: bytes */<offset>`` proves the file has
    exactly the bytes received; ``False`` when a 206 brings the bytes that were missing (the
    caller streams them). Anything else leaves the length unknown: the file is refused.

    :param transfer: the file being downloaded.
    :param response: the answer to the ``Range`` request.
    :param offset: the bytes received so far.
    :param log: passed on to :func:`accept_answer`.
    """
    status = response.status_code
    transfer.unproven_end = False
    if status == 206:
        accept_answer(transfer, response, offset, log)
        return False
    name = transfer.link.file_name
    if status == 416:
        found = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
        if found and int(found.group(1)) == offset:
            transfer.total = offset
            return True
        answer = f"416 with Content-Range {response.headers.get('Content-Range', '(none)')[:40]!r}"
    else:
        answer = f"HTTP {status}"
    raise CorruptDownloadError(
        f"{name}: the server sent it without Content-Length and closed the connection after "
        f"{offset} bytes, so the end may be a cut; asked whether more bytes follow (Range: "
        f"bytes={offset}-), it answered {answer}, which does not prove the length. The file "
        "is refused; nothing was kept at its final name."
    )
