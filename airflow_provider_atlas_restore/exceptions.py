"""Exceptions raised by the MongoDB Atlas restore provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    "invalid_client": (
        "Check the service account in the Airflow connection: login must be its client id and "
        "password its secret, and the secret must not have expired or been revoked."
    ),
}
_ADVICE_BY_STATUS = {
    401: (
        "Check the key pair in the Airflow connection: login must be the Atlas API public key and "
        "password the private key (or client id and secret for a service account), and the key "
        "must not be disabled or deleted."
    ),
    403: "The key lacks a role for this operation (needs Project Backup Manager or higher) or is not allowed here.",
    404: "Check the project id, cluster name and restore job id.",
    405: "Atlas refuses this method for this resource.",
    429: "Atlas rate-limited this key; wait and retry, or reduce request volume.",
}


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
        if self.status is not None:
            return _ADVICE_BY_STATUS.get(self.status)
        return None

    def _message(self) -> str:
        what = f"{self.status} {self.reason}".strip() if self.status is not None else "no answer"
        message = f"Atlas API {self.method} {self.path} failed: {what}"
        if self.error_code:
            message += f" ({self.error_code})"
        if self.detail:
            message += f": {self.detail}"
        if self.advice:
            message += f". {self.advice}"
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: rebuild through a helper so the error survives pickling.
        return (_rebuild_api_error, (type(self), self.__dict__.copy()))


def _rebuild_api_error(cls: type[AtlasApiError], state: dict[str, Any]) -> AtlasApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error


class AtlasConnectionError(AtlasApiError):
    """
    No usable answer came back: connection refused or reset, DNS failure, or a timeout.

    ``request_sent`` is ``False`` only when the request surely never reached the server.
    """

    request_sent: bool = True


class AtlasResponseError(AtlasApiError):
    """A success status whose body is not what the Atlas API documents (truncated JSON, HTML, wrong shape)."""


class AtlasSnapshotNotFound(AirflowException):
    """The cluster has no snapshot that can be restored (none completed yet)."""


class AtlasInputError(AirflowFailException, ValueError):
    """A value given by the user breaks a rule of the Atlas API; raised before any request is sent."""
