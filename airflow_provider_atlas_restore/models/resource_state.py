"""
The states of Atlas resources that move on their own (snapshots, export jobs, collection restores).

Each resource has an enum of its own, a :class:`ResourceState`, that says which states end the
wait and how; :mod:`.wait`'s ``WaitOutcome`` carries one. Atlas's spelling is kept as the value
(``inProgress``, ``InProgress``, ``IN_PROGRESS``), and :meth:`ResourceState.parse` reads it
leniently: case-insensitively, ``None`` for a value the enum does not know.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

_State = TypeVar("_State", bound="ResourceState")


class ResourceState(str, enum.Enum):
    """A state Atlas reports for a resource; subclasses list the states and name the final ones."""

    @property
    def is_success(self) -> bool:
        """Return whether the resource reached what it was created for."""
        return self in self._successes()

    @property
    def is_failure(self) -> bool:
        """Return whether the resource ended without it (failed, cancelled)."""
        return self in self._failures()

    @property
    def is_terminal(self) -> bool:
        """Return whether the state can no longer change by itself."""
        return self.is_success or self.is_failure

    @classmethod
    def _successes(cls) -> frozenset[Any]:
        return frozenset()

    @classmethod
    def _failures(cls) -> frozenset[Any]:
        return frozenset()

    @classmethod
    def parse(cls: type[_State], value: Any) -> _State | None:
        """
        Return the state Atlas sent, compared without case, or ``None`` when absent or unknown.

        :param value: the raw field value.
        """
        if not isinstance(value, str):
            return None
        wanted = value.strip().lower()
        for member in cls:
            if member.value.lower() == wanted:
                return member
        return None
