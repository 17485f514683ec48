"""Atlas API errors as the emulator raises and renders them."""

from __future__ import annotations

from http import HTTPStatus

__all__ = ["AtlasError", "cluster_not_found", "group_not_found", "resource_not_found"]


class AtlasError(Exception):
    """An Atlas error answer: HTTP status, ``errorCode``, ``detail`` and ``parameters``.

    :param status: HTTP status code.
    :param code: Atlas ``errorCode`` (also sent as ``X-Error-Code``); None omits it, as
        Atlas does for a 401 without valid credentials.
    :param detail: human-readable explanation.
    :param parameters: values interpolated into ``detail``; strings and numbers, as the
        real service sends them (the spec says objects).
    """

    def __init__(
        self, status: int, code: str | None, detail: str, parameters: list[str | int] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.parameters: list[str | int] = list(parameters or [])

    def body(self) -> dict[str, object]:
        """Return the JSON body: ``detail, error, errorCode, parameters, reason``."""
        reason = HTTPStatus(self.status).phrase
        if self.code is None:
            return {"reason": reason, "error": self.status, "detail": self.detail}
        return {
            "detail": self.detail,
            "error": self.status,
            "errorCode": self.code,
            "parameters": self.parameters,
            "reason": reason,
        }


def group_not_found(group_id: str) -> AtlasError:
    """404 ``GROUP_NOT_FOUND``.

    :param group_id: the unknown project id.
    """
    return AtlasError(404, "GROUP_NOT_FOUND", f"No group with ID {group_id} exists.", [group_id])


def cluster_not_found(cluster_name: str, group_id: str) -> AtlasError:
    """404 ``CLUSTER_NOT_FOUND``, worded like the recorded answer.

    :param cluster_name: the unknown cluster.
    :param group_id: its project id.
    """
    return AtlasError(
        404,
        "CLUSTER_NOT_FOUND",
        f"No cluster named {cluster_name} exists in group {group_id}.",
        [cluster_name, group_id],
    )


def resource_not_found(what: str) -> AtlasError:
    """404 ``RESOURCE_NOT_FOUND``.

    :param what: the resource that does not exist (e.g. a restore job id).
    """
    return AtlasError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {what}.", [what])
