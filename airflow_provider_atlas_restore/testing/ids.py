"""Deterministic Atlas-style identifiers (24 lowercase hex, ObjectId-like) and URL tokens."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading

__all__ = ["CLUSTER_NAME_RE", "OBJECT_ID_RE", "IdFactory"]

OBJECT_ID_RE = re.compile(r"^[a-f0-9]{24}$")
CLUSTER_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class IdFactory:
    """Make ids that are unique per factory and repeatable for the same seed and clock.

    Like a MongoDB ObjectId, the first 8 hex digits are the creation time in seconds, so ids
    sort by creation time; the other 16 come from a hash of the seed and a counter.

    :param seed: any string; the same seed gives the same sequence.
    """

    def __init__(self, seed: str = "atlas-emulator") -> None:
        self._seed = seed
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def _digest(self, kind: str, size: int) -> bytes:
        with self._lock:
            n = next(self._counter)
        return hashlib.blake2b(f"{self._seed}/{kind}/{n}".encode(), digest_size=size).digest()

    def object_id(self, timestamp: float) -> str:
        """Return a new 24-hex id whose first four bytes are ``timestamp``.

        :param timestamp: creation time in seconds since the Unix epoch.
        """
        return f"{int(timestamp) & 0xFFFFFFFF:08x}{self._digest('id', 8).hex()}"

    def token(self, length: int = 24) -> str:
        """Return a new alphanumeric token, like the path part of a real download link.

        :param length: number of characters (at most 64).
        """
        raw = self._digest("token", 64)[:length]
        return "".join(_TOKEN_ALPHABET[b % len(_TOKEN_ALPHABET)] for b in raw)

    def short(self, length: int = 6) -> str:
        """Return a short lowercase alphanumeric tag, e.g. the ``abcdef`` in ``atlas-abcdef``.

        :param length: number of characters.
        """
        raw = self._digest("short", 32)[:length]
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(alphabet[b % len(alphabet)] for b in raw)
