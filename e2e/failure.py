"""The one way an end-to-end run fails: an exception whose message says what and where."""

from __future__ import annotations


class E2EFailure(Exception):
    """The end-to-end run failed; the message says what and where."""
