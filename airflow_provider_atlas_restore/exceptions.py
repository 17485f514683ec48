"""
Every public error of the MongoDB Atlas restore provider.

The hierarchy (all are ``AirflowException``; those marked *fail* are ``AirflowFailException``,
which Airflow does not retry, since another try cannot help)::

    AtlasApiError                 an Atlas API call failed: status, errorCode, detail, advice
    +-- AtlasTransportError       no usable answer: refused, reset, timed out, garbled
    +-- AtlasResponseError        a success status whose body is not what Atlas documents
    AtlasSnapshotNotFoundError    the cluster has no completed snapshot to restore
    AtlasSnapshotInProgressError  an on-demand snapshot of the cluster is still queued or in progress
    AtlasInputError (fail)        a value given by the user is not allowed; nothing was sent
    +-- AtlasClusterKindError (fail)  the operation does not exist for this kind of cluster (flex)
    AtlasDownloadError            a snapshot download failed
    +-- CorruptDownloadError      the bytes are not a whole, valid archive of the right length
    +-- AtlasDestinationError     the destination cannot be created or written
    +-- InsecureDownloadLinkError (fail)  a download URL is not https and http was not allowed

``AtlasConnectionError`` and ``AtlasSnapshotNotFound`` are deprecated names of
:class:`AtlasTransportError` and :class:`AtlasSnapshotNotFoundError`, kept for one release.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

# What a user can do about the common Atlas answers; keyed by errorCode, then by status.
_ADVICE_BY_ERROR_CODE = {
    "IP_ADDRESS_NOT_ON_ACCESS_LIST": (
        "Add this worker's public IP address to the API access list of the Atlas API key "
        "or service account (Atlas UI: Organization Access > API Keys > Edit > API Access List)."
    ),
    "CLUSTER_NOT_FOUND": "Check the cluster name (case-sensitive) and that it belongs to this project.",
    "GROUP_NOT_FOUND": "Check the project (group) id: it is the 24-hex id shown in the Atlas project settings.",
    "RESOURCE_NOT_FOUND": "Check the ids in the request: the resource does not exist or is not visible to this key.",
    "RATE_LIMITED": "Atlas rate-limited this key; retries wait as Atlas asks, or reduce how often tasks call the API.",
    "RATE_LIMITED_TOKEN_BUCKET": "Atlas rate-limited this key; retries wait as Atlas asks.",
    "VERSION_GONE": "This API resource version is sunset: set the connection's api_version extra to v2.",
    "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API": (
        "This is a Flex cluster: Atlas serves its snapshots and restores through the flex-cluster "
        "API, not the cluster API this call used."
    ),
    "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API": (
        "This is a dedicated cluster, not a Flex one: its snapshots and restores are served by "
        "the cluster API, not the flex-cluster API this call used."
    ),
    "invalid_client": (
        "Check the service account in the Airflow connection: login must be its client id and "
        "password its secret, and the secret must not have expired or been revoked."
    ),
}
_ADVICE_BY_STATUS = {
    400: "Atlas found the request invalid: check the values the detail names.",
    401: (
        "Check the key pair in the Airflow connection: login must be the Atlas API public key and "
        "password the private key (or client id and secret for a service account), and the key "
        "must not be disabled or deleted."
    ),
    403: "The key lacks a role for this operation (needs Project Backup Manager or higher) or is not allowed here.",
    404: "Check the project id, cluster name and restore job id.",
    405: (
        "Atlas refuses this operation on this resource, or in its current state: a restore job "
        "that is finished, expired or already cancelled, or a sharded cluster's download, cannot "
        "be cancelled."
    ),
    409: "The request conflicts with the resource's current state: check it in the Atlas UI, then try again.",
    410: "This API resource version is sunset: set the connection's api_version extra to v2.",
    429: "Atlas rate-limited this key; wait and retry, or reduce request volume.",
}
_SERVER_ERROR_ADVICE = (
    "Atlas, or a proxy in front of it, failed on this request: try again later. A restore job "
    "create is not repeated after this error, so check in the Atlas UI whether the job exists."
)
_NO_ANSWER_ADVICE = (
    "Check that this worker can reach the connection's host (network, proxy, firewall), or "
    "raise the connection's timeout extra when Atlas is slow to answer."
)


class AtlasApiError(AirflowException):
    """
    An answer from the Atlas Administration API that is not a success, or no answer at all.

    :param status: HTTP status code, or ``None`` when no answer arrived (connection error, timeout).
    :param method: HTTP method of the failed request.
    :param path: URL path of the failed request (never carries credentials).
    :param error_code: Atlas ``errorCode``, when the body had one.
    :param detail: Atlas ``detail`` text, or a short excerpt of a non-JSON body.
    :param reason: Atlas ``reason`` text (the HTTP reason phrase).
    :param parameters: Atlas ``parameters`` list.
    :param retry_after: seconds the server asked to wait (``Retry-After``), when sent.
    :param body: the parsed JSON error body, when there was one.
    """

    def __init__(
        self,
        *,
        status: int | None,
        method: str,
        path: str,
        error_code: str | None = None,
        detail: str | None = None,
        reason: str | None = None,
        parameters: Sequence[Any] | None = None,
        retry_after: float | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error_code = error_code
        self.detail = detail
        self.reason = reason
        self.parameters = list(parameters or [])
        self.retry_after = retry_after
        self.body = dict(body) if body else {}
        super().__init__(self._message())

    @property
    def advice(self) -> str | None:
        """Return what the user can do about this error, when we know."""
        if self.error_code in _ADVICE_BY_ERROR_CODE:
            return _ADVICE_BY_ERROR_CODE[self.error_code]
        if self.status is None:
            return _NO_ANSWER_ADVICE
        if self.status >= 500:
            return _SERVER_ERROR_ADVICE
        return _ADVICE_BY_STATUS.get(self.status)

    def _status_text(self) -> str:
        """Return the status and its reason (Atlas's, else the standard phrase), or ``no answer``."""
        if self.status is None:
            return "no answer"
        reason = _one_line(self.reason)
        if not reason:
            try:
                reason = HTTPStatus(self.status).phrase
            except ValueError:  # a status no standard names
                reason = ""
        return f"{self.status} {reason}".strip()

    def _summary(self) -> str:
        """Return the first part of the message: what was asked and how it went."""
        summary = f"Atlas API {self.method} {self.path} failed: {self._status_text()}"
        code = _one_line(self.error_code)
        return f"{summary} ({code})" if code else summary

    def _message(self) -> str:
        message = self._summary()
        detail = _one_line(self.detail)
        if detail:
            message += f": {detail}"
        if self.advice:
            message += _sentence_break(message) + self.advice
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: rebuild through a helper so the error survives pickling.
        return (_rebuild_api_error, (type(self), self.__dict__.copy()))


def _one_line(text: object) -> str:
    """Return ``text`` on one line with single spaces; ``""`` for ``None``."""
    return " ".join(str(text).split()) if text is not None else ""


def _sentence_break(message: str) -> str:
    """Return what ends ``message``'s last sentence before another one: ``" "`` or ``". "``."""
    return " " if message.endswith((".", "!", "?")) else ". "


def _rebuild_api_error(cls: type[AtlasApiError], state: dict[str, Any]) -> AtlasApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error


class AtlasTransportError(AtlasApiError):
    """
    No usable answer came back: connection refused or reset, DNS failure, or a timeout.

    ``request_sent`` is ``False`` only when the request surely never reached the server.
    """

    request_sent: bool = True


class AtlasResponseError(AtlasApiError):
    """A success status whose body is not what the Atlas API documents (truncated JSON, HTML, wrong shape)."""

    def _summary(self) -> str:
        return (
            f"Atlas API {self.method} {self.path} answered {self._status_text()}, but the answer is unusable"
        )


class AtlasSnapshotNotFoundError(AirflowException):
    """The cluster has no snapshot that can be restored (none completed yet)."""


class AtlasSnapshotInProgressError(AirflowException):
    """
    Atlas refused an on-demand snapshot because another of the cluster's is still queued or in progress.

    Atlas takes one on-demand snapshot per cluster at a time; wait for the running one
    (:attr:`snapshot_id`) or use it.

    :param message: what happened and what to do.
    :param snapshot_id: the running on-demand snapshot, when it was found.
    :param status: that snapshot's status (``queued`` or ``inProgress``), when found.
    :param sharded: that snapshot is a sharded cluster's (read at ``.../snapshots/shardedCluster/{id}``).
    """

    def __init__(
        self,
        message: str,
        *,
        snapshot_id: str | None = None,
        status: str | None = None,
        sharded: bool = False,
    ) -> None:
        super().__init__(message)
        self.snapshot_id = snapshot_id
        self.status = status
        self.sharded = sharded

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_in_progress, (str(self), self.snapshot_id, self.status, self.sharded))


def _rebuild_in_progress(
    message: str, snapshot_id: str | None, status: str | None, sharded: bool = False
) -> AtlasSnapshotInProgressError:
    return AtlasSnapshotInProgressError(message, snapshot_id=snapshot_id, status=status, sharded=sharded)


class AtlasInputError(AirflowFailException, ValueError):
    """A value given by the user breaks a rule of the Atlas API; raised before any request is sent."""


class AtlasClusterKindError(AtlasInputError):
    """
    The operation does not exist for this kind of cluster, such as cancelling a flex restore job.

    Raised before the operation's request is sent; a retry cannot help.
    """


class AtlasDownloadError(AirflowException):
    """A snapshot download failed: the server refused it, the transfer broke, or the file is not whole."""


class CorruptDownloadError(AtlasDownloadError):
    """The bytes received are not a complete, valid gzip archive of the announced length."""


class AtlasDestinationError(AtlasDownloadError):
    """The download destination cannot be created or written."""


class AtlasDestinationUnusableError(AtlasDestinationError, AirflowFailException):
    """
    The destination cannot be used as configured (no such bucket, no permission, unknown scheme).

    Raised before any download link is spent; a retry of the task cannot help until the
    configuration changes.
    """


class AtlasDestinationExistsError(AtlasDestinationError, AirflowFailException):
    """A file to be written already exists and ``if_exists="fail"`` was asked for."""


class InsecureDownloadLinkError(AtlasDownloadError, AirflowFailException):
    """A download URL is not https and plain http was not allowed."""


#: Old names kept importable for one release, with a DeprecationWarning.
_DEPRECATED_NAMES = {
    "AtlasConnectionError": AtlasTransportError,
    "AtlasSnapshotNotFound": AtlasSnapshotNotFoundError,
}


def __getattr__(name: str) -> Any:
    """Return a deprecated exception name's new class, with a warning."""
    if name in _DEPRECATED_NAMES:
        new = _DEPRECATED_NAMES[name]
        warnings.warn(
            f"{name} is deprecated: use {new.__name__} (airflow_provider_atlas_restore.exceptions).",
            DeprecationWarning,
            stacklevel=2,
        )
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
