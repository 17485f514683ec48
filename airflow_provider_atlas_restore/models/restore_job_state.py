"""The state of a restore job, derived from its fields: what validation at parse time may name."""

from __future__ import annotations

import enum

__all__ = ["RestoreJobState"]


class RestoreJobState(str, enum.Enum):
    """
    The state of a restore job, which Atlas does not send: it is derived from the job's fields.

    Terminal states are ``READY`` (download links are available), ``FINISHED`` (an automated or
    point-in-time restore completed), ``FAILED``, ``CANCELLED`` and ``EXPIRED``.
    """

    PENDING = "pending"
    READY = "ready"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Return whether the job can no longer change state by itself."""
        return self is not RestoreJobState.PENDING

    @property
    def is_success(self) -> bool:
        """Return whether the job reached the outcome it was created for."""
        return self in (RestoreJobState.READY, RestoreJobState.FINISHED)

    @property
    def is_failure(self) -> bool:
        """Return whether the job ended without its outcome: failed, cancelled or expired."""
        return self in (RestoreJobState.FAILED, RestoreJobState.CANCELLED, RestoreJobState.EXPIRED)
