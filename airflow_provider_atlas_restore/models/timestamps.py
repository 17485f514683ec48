"""Atlas timestamps read leniently: ISO 8601 text, or seconds or milliseconds since the epoch."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["parse_timestamp"]

# Integer timestamps above this are milliseconds since the epoch, not seconds (year 5138 in seconds).
_MILLISECONDS_THRESHOLD = 100_000_000_000


def parse_timestamp(value: Any) -> datetime | None:
    """
    Return an aware UTC datetime from an Atlas timestamp, or ``None`` when absent or unreadable.

    Atlas sends ISO 8601 strings (``2026-08-10T04:44:52Z``); the v1.0 documents also type these
    fields as integers, which are read as seconds or milliseconds since the epoch.

    :param value: the raw field value.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > _MILLISECONDS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None
