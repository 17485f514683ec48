"""Reading the fields of an XCom dict back strictly: the helpers every result type shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_object_id
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.resource_state import ResourceState
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp

_State = TypeVar("_State", bound=ResourceState)


class XcomFields:
    """
    The fields of one XCom dict, read with the name of the result in every error.

    :param data: the XCom value.
    :param what: the result's name, such as ``snapshot``.
    """

    def __init__(self, data: Any, what: str) -> None:
        if not isinstance(data, Mapping):
            raise AtlasInputError(f"{what} must be the XCom value of the task that made it: a dict.")
        self.data = data
        self.what = what

    def present(self, key: str) -> Any:
        """Return the value at ``key``, or ``None`` when missing, ``None`` or empty text.

        :param key: the field.
        """
        value = self.data.get(key)
        return None if value is None or value == "" else value

    def text(self, key: str) -> str | None:
        """Return a text field.

        :param key: the field.
        """
        value = self.present(key)
        if value is None or isinstance(value, str):
            return value
        raise AtlasInputError(f"{self.what}: {key}={value!r} is not text.")

    def object_id(self, key: str) -> str | None:
        """Return a 24-hex id field, checked.

        :param key: the field.
        """
        value = self.present(key)
        return None if value is None else validate_object_id(value, f"{self.what}.{key}")

    def cluster_name(self, key: str = "cluster_name") -> str | None:
        """Return a cluster name field, checked.

        :param key: the field.
        """
        value = self.present(key)
        return None if value is None else validate_cluster_name(value, f"{self.what}.{key}")

    def moment(self, key: str) -> datetime | None:
        """Return an ISO 8601 timestamp field.

        :param key: the field.
        """
        value = self.present(key)
        if value is None:
            return None
        moment = parse_timestamp(value)
        if moment is None:
            raise AtlasInputError(f"{self.what}: {key}={value!r} is not an ISO 8601 timestamp.")
        return moment

    def integer(self, key: str) -> int | None:
        """Return a non-negative integer field.

        :param key: the field.
        """
        value = self.present(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AtlasInputError(f"{self.what}: {key}={value!r} is not a count (an integer of at least 0).")
        return value

    def state(self, key: str, states: type[_State]) -> _State | None:
        """Return a state field as its enum.

        :param key: the field.
        :param states: the enum.
        """
        value = self.text(key)
        if value is None:
            return None
        state = states.parse(value)
        if state is None:
            allowed = ", ".join(repr(member.value) for member in states)
            raise AtlasInputError(
                f"{self.what}: {key}={value!r} is not allowed: it must be one of {allowed}."
            )
        return state


def iso_or_none(moment: datetime | None) -> str | None:
    """Return ``moment`` as ISO 8601 text, or ``None``.

    :param moment: the time.
    """
    return moment.isoformat() if moment else None


def text_field(raw: Mapping[str, Any], key: str) -> str | None:
    """Return ``raw[key]`` when it is non-empty text (answers are read leniently).

    :param raw: the answer.
    :param key: the field.
    """
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


def count_field(raw: Mapping[str, Any], key: str) -> int | None:
    """Return ``raw[key]`` when it is a non-negative integer (answers are read leniently).

    :param raw: the answer.
    :param key: the field.
    """
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
