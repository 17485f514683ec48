"""The state of one file's download across its requests, and how an attempt says it ended early."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_atlas_restore.download.checks import ProgressLog, StreamCheck
from airflow_provider_atlas_restore.download.destination import DownloadLink, FileWriter

__all__ = ["Interrupted", "Transfer"]


class Interrupted(Exception):
    """
    One attempt ended early in a way another request may cure.

    :param reason: what happened, for the log and the final error (never a link).
    :param restart: the next request must start again from byte 0.
    :param retry_after: seconds the server asked to wait (``Retry-After``), if it did.
    """

    def __init__(self, reason: str, *, restart: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.restart = restart
        self.retry_after = retry_after


@dataclass
class Transfer:
    """
    The state of one file's download across its attempts.

    :param link: the link and the file name.
    :param part: the file being written (a local part file or an uncommitted upload).
    :param check: the length, sha256 and gzip check of the bytes so far.
    :param progress: the progress log.
    :param total: the file's whole length, once the server said it.
    :param validator: the strong ``ETag`` sent as ``If-Range`` when resuming.
    :param unproven_end: see the attribute.
    """

    link: DownloadLink
    part: FileWriter
    check: StreamCheck
    progress: ProgressLog
    total: int | None = None
    validator: str | None = None
    #: The last body had no length and ended when the server closed the connection: its end is
    #: not proven until a ``Range`` request for the bytes after it says there are none (416).
    unproven_end: bool = False

    def restart(self) -> None:
        """Forget the bytes received, for a download that starts again from byte 0."""
        self.check.reset()
        self.part.restart()
        self.progress.restart()
        self.total = None
        self.validator = None
        self.unproven_end = False
