"""Secret scan of what a distributed Airflow keeps: the metadata database, the broker, the logs.

Searched for: the Atlas key pair's private key, the service account's client secret, the S3
secret key, and every delivery-link token the emulator served. None may be anywhere: the create
task's XCom (create-and-wait returns what the sensor returns) holds ``***`` in place of links
(docs/download.md), and the download resolves them by job id.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed_services import Postgres, Redis
from failure import E2EFailure

_LINK_TOKEN = re.compile(r'"[A-Z]+ /backup/download/([^/\s]+)/')
_COPY = re.compile(r"^COPY (\S+) \(")
_BYTEA = re.compile(r"\\\\x((?:[0-9a-f]{2})+)")  # COPY text format writes bytea as \\x4142...


@dataclass
class Sentinels:
    """The secrets to look for, by what they are."""

    secrets: dict[str, str]
    link_tokens: list[str] = field(default_factory=list)

    def found_in(self, text: str) -> list[str]:
        """The names of the sentinels ``text`` holds (``link token`` for any token).

        :param text: what to search.
        """
        names = [name for name, value in self.secrets.items() if value and value in text]
        if any(token in text for token in self.link_tokens):
            names.append("link token")
        return names


def link_tokens(emulator_log: Path) -> list[str]:
    """The tokens of the download links the emulator served, from its request log.

    :param emulator_log: the emulator's ``--verbose`` log.
    """
    text = emulator_log.read_text(errors="replace")
    return sorted(set(_LINK_TOKEN.findall(text)))


def dump_hits(dump: str, sentinels: Sentinels) -> tuple[list[str], int]:
    """Search a ``pg_dump``: the leaks (table and sentinel) and the rows read.

    :param dump: the plain-SQL dump.
    :param sentinels: what to look for.
    """
    leaks: list[str] = []
    table = None
    rows = 0
    for line in dump.splitlines():
        if table is None:
            found = _COPY.match(line)
            table = found.group(1) if found else None
            if table is None and (names := sentinels.found_in(line)):
                leaks.append(f"schema or statement: {', '.join(names)}")
            continue
        if line == "\\.":
            table = None
            continue
        rows += 1
        names = sentinels.found_in(_with_bytea_decoded(line))
        if names:
            leaks.append(f"table {table}: {', '.join(names)}")
    return leaks, rows


def _with_bytea_decoded(row: str) -> str:
    """A ``COPY`` row, followed by its ``bytea`` values (``\\x`` and hex digits) decoded."""
    decoded = [bytes.fromhex(digits).decode(errors="replace") for digits in _BYTEA.findall(row)]
    return "\n".join([row, *decoded])


def redis_values(redis: Redis) -> dict[str, str]:
    """Every key of the broker with its value as text (Celery's base64 message bodies decoded).

    :param redis: the broker.
    """
    values = {}
    for key in redis.cli("--scan").splitlines():
        kind = redis.cli("TYPE", key).strip()
        command = {
            "string": ["GET", key],
            "hash": ["HGETALL", key],
            "list": ["LRANGE", key, "0", "-1"],
            "set": ["SMEMBERS", key],
            "zset": ["ZRANGE", key, "0", "-1", "WITHSCORES"],
        }.get(kind)
        text = redis.cli(*command) if command else f"(a {kind})"
        values[key] = "\n".join([text, *_decoded_bodies(text)])
    return values


def _decoded_bodies(text: str) -> Iterator[str]:
    """The base64 bodies of the kombu messages in ``text`` (one JSON document a line), decoded."""
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        yield from _bodies(document)


def _bodies(document: Any) -> Iterator[str]:
    if isinstance(document, list):
        for item in document:
            yield from _bodies(item)
    elif isinstance(document, dict):
        body = document.get("body")
        if isinstance(body, str) and (document.get("properties") or {}).get("body_encoding") == "base64":
            try:
                yield base64.b64decode(body).decode(errors="replace")
            except (binascii.Error, ValueError):
                yield body


def log_hits(folders: list[Path], sentinels: Sentinels, skip: set[str]) -> tuple[list[str], int]:
    """Search every log file below ``folders`` (but the files named in ``skip``): leaks, files read.

    :param folders: where the logs are.
    :param sentinels: what to look for.
    :param skip: file names not to search.
    """
    leaks = []
    files = 0
    for folder in folders:
        for path in sorted(folder.rglob("*.log")):
            if path.name in skip:
                continue
            files += 1
            names = sentinels.found_in(path.read_text(errors="replace"))
            if names:
                leaks.append(f"{path}: {', '.join(names)}")
    return leaks, files


def scan_for_secrets(
    postgres: Postgres, redis: Redis, sentinels: Sentinels, log_folders: list[Path], skip_logs: set[str]
) -> list[str]:
    """Search the database dump, the broker and the logs; fail on any leak; return the summary lines.

    :param postgres: the metadata database.
    :param redis: the broker.
    :param sentinels: what to look for.
    :param log_folders: where the logs are.
    :param skip_logs: log file names not to search (the emulator's).
    """
    if not sentinels.link_tokens:
        raise E2EFailure("the emulator's log shows no download link served: nothing to look for")
    dump = postgres.dump()
    leaks, rows = dump_hits(dump, sentinels)
    broker = redis_values(redis)
    for key, text in sorted(broker.items()):
        leaks.extend(f"Redis key {key}: {name}" for name in sentinels.found_in(text))
    log_leaks, log_files = log_hits(log_folders, sentinels, skip_logs)
    leaks.extend(log_leaks)
    if leaks:
        raise E2EFailure("secrets found where none may be:\n  " + "\n  ".join(leaks))
    searched = ", ".join(sorted(sentinels.secrets))
    return [
        f"searched for {searched} and {len(sentinels.link_tokens)} link token(s)",
        f"pg_dump: {len(dump):,} characters, {rows:,} rows (the create task's XCom included): 0 hits",
        f"Redis: {len(broker)} keys ({', '.join(sorted(broker))}), message bodies decoded: 0 hits",
        f"logs: {log_files} files (task logs on both workers, the dag-processor's, every component's "
        "but the emulator's): 0 hits",
    ]
