"""The emulator's run-time switches, shared by the HTTP layer, the handlers and the downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Setting", "Settings"]

T = TypeVar("T")


@dataclass
class Settings:
    """Run-time switches shared by the HTTP layer and the handlers."""

    ready_after: float = 0.0
    single_use_links: bool = True
    ip_access_denied: bool = False
    v1_gone: bool = False
    latency: float = 0.0
    rate_limit: int = 1200


class Setting(Generic[T]):
    """An attribute of the owning object stored in its ``settings`` (a :class:`Settings`).

    :param doc: what the switch does.
    """

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> T:
        value: T = getattr(obj.settings, self.name)
        return value

    def __set__(self, obj: Any, value: T) -> None:
        setattr(obj.settings, self.name, value)
