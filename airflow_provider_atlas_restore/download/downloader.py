"""Stream Atlas snapshot archives to a folder: constant memory, resumable, checked, atomically named."""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3

from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.client.transport_errors import describe_transport_error
from airflow_provider_atlas_restore.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PROGRESS_INTERVAL,
    DOWNLOAD_INITIAL_WAIT,
    DOWNLOAD_MAX_ATTEMPTS,
    DOWNLOAD_MAX_TOTAL_WAIT,
    DOWNLOAD_MAX_WAIT,
)
from airflow_provider_atlas_restore.download.answers import LinkRefused, accept_answer, length_proven
from airflow_provider_atlas_restore.download.checks import ProgressLog, StreamCheck
from airflow_provider_atlas_restore.download.destination import (
    DownloadDestination,
    DownloadLink,
    DownloadResult,
    FileWriter,
)
from airflow_provider_atlas_restore.download.pipeline import Chunk, ChunkPipeline, receive
from airflow_provider_atlas_restore.download.transfer import Interrupted, Transfer
from airflow_provider_atlas_restore.download.urls import (
    NoCredentials,
    check_link_scheme,
    download_session,
    mask_link,
)
from airflow_provider_atlas_restore.exceptions import (
    AtlasDestinationError,
    AtlasDownloadError,
    CorruptDownloadError,
    InsecureDownloadLinkError,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_DOWNLOAD_RETRY",
    "DEFAULT_PROGRESS_INTERVAL",
    "AtlasDestinationError",
    "AtlasDownloadError",
    "CorruptDownloadError",
    "DownloadDestination",
    "DownloadLink",
    "DownloadResult",
    "InsecureDownloadLinkError",
    "LinkRenewal",
    "SnapshotDownloader",
    "download_session",
    "mask_link",
]

#: Requests per file (the first included; each resume counts) and the waits between them.
DEFAULT_DOWNLOAD_RETRY = RetryPolicy(
    max_attempts=DOWNLOAD_MAX_ATTEMPTS,
    initial_wait=DOWNLOAD_INITIAL_WAIT,
    max_wait=DOWNLOAD_MAX_WAIT,
    max_total_wait=DOWNLOAD_MAX_TOTAL_WAIT,
)
MAX_REDIRECTS = 5
_READ_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, requests.RequestException)
#: Fresh links asked for one file after the download server refused the one it had (expired).
MAX_LINK_RENEWALS = 3

#: Returns a fresh link for a file whose link the server refused, or ``None`` when there is none.
LinkRenewal = Callable[[DownloadLink], DownloadLink | None]


class SnapshotDownloader:
    """
    Download snapshot archives in chunks with constant memory, resuming dropped transfers.

    Each file is written under a temporary name beside its final name, counted, hashed (sha256)
    and gzip-checked while it streams, and renamed only once complete. A dropped connection is
    resumed with ``Range: bytes=N-``; a server that ignores ``Range`` or resumes elsewhere makes
    the download start again from byte 0. Links never appear in logs or error messages.

    :param session: the HTTP session (see :func:`download_session`); it must carry no credentials.
    :param log: where progress and retries are logged.
    :param allow_http: accept plain-http links (a local emulator only).
    :param connect_timeout: seconds to wait for a connection.
    :param read_timeout: seconds to wait for the next bytes.
    :param chunk_size: bytes read and written at a time.
    :param retry: attempts per file (each resume counts) and the waits between them.
    :param progress_interval: seconds between two progress log lines.
    :param sleep: how to wait between attempts (tests pass a recorder).
    :param monotonic: the clock for progress and speed (tests pass a fake one).
    """

    def __init__(
        self,
        session: requests.Session,
        log: logging.Logger | Any,
        *,
        allow_http: bool = False,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: RetryPolicy = DEFAULT_DOWNLOAD_RETRY,
        progress_interval: float = DEFAULT_PROGRESS_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.log = log
        self.allow_http = allow_http
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.chunk_size = chunk_size
        self.retry = retry
        self.progress_interval = progress_interval
        self.sleep = sleep
        self.monotonic = monotonic

    def check_link(self, link: DownloadLink, url: str | None = None) -> None:
        """
        Refuse a link (or a redirect from it) that is not https, unless plain http is allowed.

        :param link: the link being downloaded, for the message.
        :param url: the URL to check; the link's own by default.
        """
        check_link_scheme(link, url or link.url, allow_http=self.allow_http)

    def download(
        self, link: DownloadLink, destination: DownloadDestination, renew: LinkRenewal | None = None
    ) -> DownloadResult:
        """
        Download one file completely into ``destination`` and return what was written.

        :param link: the link and the file name to give it.
        :param destination: the folder (prepared beforehand with ``destination.prepare()``).
        :param renew: asked for a fresh link when the server refuses this one (401, 403, 404,
            410: such as an expired flex ``snapshotUrl``); the download then resumes where it
            was with the fresh link. ``None``: the refusal fails the download.
        """
        mask_link(link.url)
        self.check_link(link)
        progress = ProgressLog(self.log, link.file_name, self.progress_interval, self.monotonic)
        metadata = link.origin.to_metadata() if link.origin else None
        transfer = Transfer(
            link, destination.open_part(link.file_name, metadata), StreamCheck(link.file_name), progress
        )
        waited = 0.0
        attempt = renewals = 0
        try:
            while True:
                attempt += 1
                try:
                    self._attempt(transfer)
                    if not transfer.unproven_end:
                        break
                    # Ask for the bytes after those received, at once: 416 proves the length.
                    continue
                except LinkRefused as refused:
                    renewals += 1
                    self._renew(transfer, refused, renew, renewals)
                except Interrupted as interruption:
                    done = transfer.check.bytes
                    if interruption.restart:
                        transfer.restart()
                    waited += self._wait_before_retry(transfer, interruption, attempt, waited, done)
            transfer.check.finish(transfer.total)
            transfer.part.commit(transfer.check.sha256)  # only now, verified, does it appear
        except BaseException:
            transfer.part.discard()
            raise
        check = transfer.check
        self.log.info(
            "Downloaded %s: %d bytes%s, sha256 %s, %.1f MB/s on average, %d request(s)",
            transfer.part.uri,
            check.bytes,
            "" if transfer.part.uploaded is None else " uploaded and committed",
            check.sha256,
            progress.average_speed(check.bytes),
            attempt,
        )
        origin = transfer.link.origin
        return DownloadResult(
            transfer.part.uri,
            check.bytes,
            check.sha256,
            link.replica_set,
            snapshot_id=origin.snapshot_id if origin else None,
        )

    def _renew(
        self, transfer: Transfer, refused: LinkRefused, renew: LinkRenewal | None, renewals: int
    ) -> None:
        """Put a fresh link on ``transfer`` after the server refused its link, or raise ``refused``."""
        if renew is None or renewals > MAX_LINK_RENEWALS:
            raise refused
        fresh = renew(transfer.link)
        if fresh is None:
            raise refused
        mask_link(fresh.url)
        self.check_link(fresh)
        transfer.link = fresh
        self.log.info(
            "The download server refused the link of %s (HTTP %d): asked Atlas for a fresh one, "
            "resuming from byte %d",
            fresh.file_name,
            refused.status,
            transfer.check.bytes,
        )

    def _wait_before_retry(
        self, transfer: Transfer, interruption: Interrupted, attempt: int, waited: float, done: int
    ) -> float:
        """Sleep before the next attempt and return how long; raise when the attempts are spent."""
        policy = self.retry
        wait = policy.download_wait(attempt, interruption.retry_after)
        file_name = transfer.link.file_name
        if policy.spent(attempt, waited, wait):
            raise AtlasDownloadError(
                f"Download of {file_name} failed after {attempt} attempt(s): {interruption.reason}. "
                "Nothing was kept at its final name."
            )
        if interruption.restart and done:
            action = "starting again from byte 0"
        else:
            action = f"resuming from byte {done}" if done else "retrying"
        self.log.warning(
            "Download of %s interrupted after %d bytes (%s); %s in %.1f s (attempt %d of %d failed)",
            file_name,
            done,
            interruption.reason,
            action,
            wait,
            attempt,
            policy.max_attempts,
        )
        self.sleep(wait)
        return wait

    def _attempt(self, transfer: Transfer) -> None:
        """Send one request and stream its body to the end, or raise ``Interrupted``."""
        offset = transfer.check.bytes
        response = self._open(transfer, offset)
        with response:
            if transfer.unproven_end:
                if length_proven(transfer, response, offset, self.log):
                    return
            else:
                accept_answer(transfer, response, offset, self.log)
            if transfer.check.bytes == 0:
                etag = response.headers.get("ETag")
                # If-Range needs a strong validator: a weak one would make every resume start over.
                transfer.validator = etag if etag and not etag.startswith("W/") else None
            self._stream(transfer, response)
            # Without Content-Length a body has an explicit end only when chunked: a
            # close-delimited one may have been cut anywhere, even between two gzip members.
            chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
            transfer.unproven_end = transfer.total is None and not chunked and transfer.check.bytes > 0
        total, done = transfer.total, transfer.check.bytes
        if total is not None and done < total:
            raise Interrupted(f"the answer ended after {done} of {total} bytes")

    def _open(self, transfer: Transfer, offset: int) -> requests.Response:
        """Send the GET (with ``Range`` when resuming), following redirects after checking each."""
        link = transfer.link
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if transfer.validator:
                headers["If-Range"] = transfer.validator
        url = link.url
        for _ in range(MAX_REDIRECTS + 1):
            self.check_link(link, url)
            try:
                response = self.session.get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.connect_timeout, self.read_timeout),
                    auth=NoCredentials(),
                    # Per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
                    # session's verify, never one given with the request.
                    verify=self.session.verify,
                )
            except requests.exceptions.SSLError:
                raise AtlasDownloadError(
                    f"Download of {link.file_name} failed: TLS verification of the download host failed. "
                    "Check the connection's verify extra (a CA bundle path) and any TLS-intercepting proxy."
                ) from None
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as error:
                raise Interrupted(describe_transport_error(error, self.read_timeout)) from None
            except (requests.RequestException, ValueError) as error:
                raise AtlasDownloadError(
                    f"Download of {link.file_name} failed: the link is not a usable URL ({type(error).__name__})."
                ) from None
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            try:
                url = urljoin(url, location)
            except ValueError:
                raise AtlasDownloadError(
                    f"Download of {link.file_name} failed: the server redirected to an invalid URL."
                ) from None
            mask_link(url)  # a redirect target (such as a presigned storage URL) is a secret too
        raise AtlasDownloadError(f"Download of {link.file_name} failed: more than {MAX_REDIRECTS} redirects.")

    def _stream(self, transfer: Transfer, response: requests.Response) -> None:
        """
        Copy the body into the part file, checking it on the way; raw bytes, never decoded.

        This thread receives; writing, hashing and the gzip check run in threads of their own
        (:class:`~airflow_provider_atlas_restore.download.pipeline.ChunkPipeline`), so the four
        overlap. On a dropped connection all three have caught up before ``check.bytes`` is read.
        """
        check, part, total = transfer.check, transfer.part, transfer.total
        received = check.bytes
        body = receive(response.raw, self.chunk_size)
        stages = [("write", self._writer(part)), ("sha256", check.count), ("gzip", check.check_gzip)]
        with ChunkPipeline(stages) as pipeline:
            while True:
                try:
                    chunk, release = next(body, (b"", None))
                except _READ_ERRORS as error:
                    pipeline.finish()
                    if total is not None and check.gzip_complete and check.bytes < total:
                        raise CorruptDownloadError(
                            f"{check.file_name}: the gzip archive ended after {check.bytes} bytes but the "
                            f"server announced {total} (Content-Length)."
                        ) from None
                    timed_out = isinstance(error, (TimeoutError, urllib3.exceptions.TimeoutError))
                    raise Interrupted(
                        f"the connection {'timed out' if timed_out else 'dropped'} after {check.bytes} bytes"
                    ) from None
                if not chunk:
                    pipeline.finish()
                    return
                pipeline.put(chunk, release)
                received += len(chunk)
                transfer.progress.update(received, total, part.uploaded)

    @staticmethod
    def _writer(part: FileWriter) -> Callable[[Chunk], None]:
        """Return the write stage: append to the part file, with an error that names the file."""

        def write(chunk: Chunk) -> None:
            try:
                part.write(chunk)
            except OSError as error:
                raise AtlasDestinationError(
                    f"Cannot write {part.temp}: {error.strerror or type(error).__name__}."
                ) from None

        return write
