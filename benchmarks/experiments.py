"""
Benchmark-only experiments: proposed package changes applied as monkeypatches, to measure them.

Nothing here changes the package on disk. Each patch is a context manager that swaps one
function for the proposed version and restores it after; each proposal's output is checked
against the original's before any timing (see ``check_redaction``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REDACTED_URL = "***"


def _redact_holder(holder: dict[str, Any], copy: dict[str, Any]) -> None:
    if isinstance(holder.get("downloadUrl"), str):
        copy["downloadUrl"] = REDACTED_URL
    private = holder.get("privateDownloadDeliveryUrls")
    if isinstance(private, list):
        copy["privateDownloadDeliveryUrls"] = [
            {**entry, "deliveryUrl": REDACTED_URL}
            if isinstance(entry, dict) and isinstance(entry.get("deliveryUrl"), str)
            else entry
            for entry in private
        ]


def fast_redact_delivery_urls(job: dict[str, Any]) -> dict[str, Any]:
    """
    The proposed ``operators/restore_jobs.py:redact_delivery_urls``: copy only what changes.

    ``copy.deepcopy`` of every job costs ~30 us (about 0.3 s for 10,000 jobs, as much as the whole
    listing). A shallow copy of the job, with new lists and dicts only where a link is replaced,
    gives an equal value and never mutates the caller's job; untouched nested values are shared,
    which is safe because the copy goes straight to XCom.
    """
    redacted = dict(job)
    urls = job.get("deliveryUrl")
    if isinstance(urls, list):
        redacted["deliveryUrl"] = [REDACTED_URL for _ in urls]
    elif isinstance(urls, str) and urls:
        redacted["deliveryUrl"] = REDACTED_URL
    _redact_holder(job, redacted)
    components = job.get("components")
    if isinstance(components, list):
        new_components: list[Any] = []
        for component in components:
            if isinstance(component, dict):
                copied = dict(component)
                _redact_holder(component, copied)
                new_components.append(copied)
            else:
                new_components.append(component)
        redacted["components"] = new_components
    return redacted


#: Shapes the emulator's listing does not show: sharded components and private links.
SYNTHETIC_JOBS: list[dict[str, Any]] = [
    {
        "id": "a" * 24,
        "deliveryUrl": ["https://x/1", "https://x/2"],
        "components": [
            {"replicaSetName": "shard-0", "downloadUrl": "https://x/1"},
            {"replicaSetName": "shard-1", "downloadUrl": None},
            "odd",
        ],
        "privateDownloadDeliveryUrls": [{"deliveryUrl": "https://p/1", "endpointId": "e"}, 3],
        "links": [{"href": "https://cloud/self", "rel": "self"}],
    },
    {"id": "b" * 24, "deliveryUrl": "https://x/3", "downloadUrl": "https://x/4"},
    {"id": "c" * 24, "deliveryUrl": [], "components": None},
]


def check_redaction(jobs: list[dict[str, Any]]) -> int:
    """Return how many jobs (and synthetic shapes) the proposal renders exactly as the current code."""
    import copy

    from airflow_provider_atlas_restore.operators import restore_jobs

    same = 0
    for job in [*jobs, *SYNTHETIC_JOBS]:
        before = copy.deepcopy(job)
        if fast_redact_delivery_urls(job) == restore_jobs.redact_delivery_urls(job) and job == before:
            same += 1
    return same


@contextmanager
def patched_redaction() -> Iterator[None]:
    """Use :func:`fast_redact_delivery_urls` in ``AtlasListRestoreJobsOperator`` for a block."""
    from airflow_provider_atlas_restore.operators import restore_jobs

    original = restore_jobs.redact_delivery_urls
    restore_jobs.redact_delivery_urls = fast_redact_delivery_urls
    try:
        yield
    finally:
        restore_jobs.redact_delivery_urls = original


class _HttpxWithSharedSslContext:
    """Stands in for the ``httpx`` module inside ``hooks/atlas_async.py``: one SSL context per setting."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._contexts: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def AsyncClient(self, *args: Any, verify: Any = True, **kwargs: Any) -> Any:
        if not isinstance(verify, (bool, str)):
            return self._real.AsyncClient(*args, verify=verify, **kwargs)
        if verify not in self._contexts:
            self._contexts[verify] = self._real.create_ssl_context(verify=verify)
        return self._real.AsyncClient(*args, verify=self._contexts[verify], **kwargs)


@contextmanager
def patched_shared_ssl_context() -> Iterator[None]:
    """
    The proposed ``hooks/atlas_async.py:AtlasAsyncClient.__aenter__``: reuse one SSL context.

    ``httpx.AsyncClient(verify=True)`` builds a new ``ssl.SSLContext`` and loads the CA bundle
    into it: about 20 ms of CPU (blocking the event loop) and about 0.8 MiB of memory per trigger.
    A module-level cache keyed by the ``verify`` setting (``True``, ``False`` or a CA path) makes it
    once per process.
    """
    from airflow_provider_atlas_restore.hooks import atlas_async

    original = atlas_async.httpx  # type: ignore[attr-defined]
    atlas_async.httpx = _HttpxWithSharedSslContext(original)  # type: ignore[attr-defined,assignment]
    try:
        yield
    finally:
        atlas_async.httpx = original  # type: ignore[attr-defined]


def pipelined_stream(self: Any, transfer: Any, response: Any) -> None:
    """
    The proposed ``snapshot_download.py:SnapshotDownloader._stream``: receive, write and check in parallel.

    Today one thread receives a chunk, hashes it (sha256), inflates it (gzip check), writes it and
    only then reads the next one, so the four costs add up (for 1 GiB on this machine: recv
    ~0.8 s, write ~1.0 s, sha256 ~0.7 s, inflate ~0.5 s). Each of them releases the GIL, so here
    the receiving thread hands every chunk to two workers, one writing the part file and one
    checking (``StreamCheck.update``), through bounded queues (at most ``_DEPTH`` chunks each, so
    memory stays flat). Errors and the resume offset behave as before: on a read error both
    workers are drained first, so ``check.bytes`` is exactly what was checked and written.
    """
    import queue
    import threading

    import urllib3

    from airflow_provider_atlas_restore import snapshot_download as sd

    check, part, total = transfer.check, transfer.part, transfer.total
    reader = response.raw.stream(self.chunk_size, decode_content=False)
    failures: list[BaseException] = []
    unsynced = [0]

    def worker(work: Any, inbox: queue.Queue[bytes | None]) -> None:
        while (chunk := inbox.get()) is not None:
            if failures:
                continue  # keep draining so the receiver never blocks on a full queue
            try:
                work(chunk)
            except BaseException as error:
                failures.append(error)

    def write(chunk: bytes) -> None:
        try:
            part.write(chunk)
            unsynced[0] += len(chunk)
            if _EARLY_WRITEBACK and unsynced[0] >= _EARLY_WRITEBACK and part.is_local:
                # Flush as we go, in this worker only, so the final fsync has little left to do.
                handle = part._handle
                handle.flush()
                os.fdatasync(handle.fileno())
                unsynced[0] = 0
        except OSError as error:
            raise sd.AtlasDestinationError(
                f"Cannot write {part.temp}: {error.strerror or type(error).__name__}."
            ) from None

    def verify(chunk: bytes) -> None:
        check.update(chunk)
        transfer.progress.update(check.bytes, total)

    inboxes: list[queue.Queue[bytes | None]] = [queue.Queue(maxsize=_DEPTH) for _ in range(2)]
    threads = [
        threading.Thread(target=worker, args=(work, inbox), daemon=True)
        for work, inbox in zip((write, verify), inboxes, strict=True)
    ]
    for thread in threads:
        thread.start()

    def finish() -> None:
        for inbox in inboxes:
            inbox.put(None)
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]

    while True:
        try:
            chunk = next(reader, None)
        except sd._READ_ERRORS as error:
            finish()
            if total is not None and check.gzip_complete and check.bytes < total:
                raise sd.CorruptDownloadError(
                    f"{check.file_name}: the gzip archive ended after {check.bytes} bytes but the "
                    f"server announced {total} (Content-Length)."
                ) from None
            timed_out = isinstance(error, (TimeoutError, urllib3.exceptions.TimeoutError))
            raise sd._Interrupted(
                f"the connection {'timed out' if timed_out else 'dropped'} after {check.bytes} bytes"
            ) from None
        if chunk is None or failures:
            finish()
            return
        for inbox in inboxes:
            inbox.put(chunk)


_DEPTH = 4
#: Bytes written between two ``fdatasync`` calls in the writer (0: only the final fsync).
_EARLY_WRITEBACK = 0


@contextmanager
def patched_pipelined_download(early_writeback: int = 0) -> Iterator[None]:
    """Use :func:`pipelined_stream` in ``SnapshotDownloader`` for a block (optionally syncing as it goes)."""
    global _EARLY_WRITEBACK
    from airflow_provider_atlas_restore.snapshot_download import SnapshotDownloader

    original = SnapshotDownloader._stream
    SnapshotDownloader._stream = pipelined_stream  # type: ignore[method-assign]
    _EARLY_WRITEBACK = early_writeback
    try:
        yield
    finally:
        SnapshotDownloader._stream = original  # type: ignore[method-assign]
        _EARLY_WRITEBACK = 0


@contextmanager
def diagnostic(no_fsync: bool = False, no_checks: bool = False) -> Iterator[None]:
    """
    Not proposals: switch off the final fsync and/or the sha256 and gzip checks, to see their cost.

    ``os.fsync`` is replaced process-wide for the block; ``StreamCheck`` then only counts bytes.
    """
    from airflow_provider_atlas_restore import download_progress

    real_fsync = os.fsync
    update, finish = download_progress.StreamCheck.update, download_progress.StreamCheck.finish

    def count_only(check: Any, data: bytes) -> None:
        check.bytes += len(data)

    if no_fsync:
        os.fsync = lambda fd: None
    if no_checks:
        download_progress.StreamCheck.update = count_only  # type: ignore[method-assign,assignment]
        download_progress.StreamCheck.finish = lambda check, expected: None  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        os.fsync = real_fsync
        download_progress.StreamCheck.update = update  # type: ignore[method-assign]
        download_progress.StreamCheck.finish = finish  # type: ignore[method-assign]


class _SharedClient:
    def __init__(self, client: Any) -> None:
        import asyncio

        self.client = client
        self.users = 0
        self.primed = False
        self.lock = asyncio.Lock()


_SHARED_CLIENTS: dict[tuple[Any, ...], _SharedClient] = {}


@contextmanager
def patched_shared_async_client() -> Iterator[None]:
    """
    The proposed ``hooks/atlas_async.py:AtlasAsyncClient``: one ``httpx.AsyncClient`` per event loop and connection.

    Every trigger in a triggerer that uses the same connection shares one client: one SSL
    context, one pool of keep-alive connections (up to 100), and one Digest nonce. The first
    request goes alone (the others wait on a lock) so that one challenge authorises them all;
    after that, every poll is one request. The last user closes the client.
    """
    import asyncio

    import httpx

    from airflow_provider_atlas_restore.auth import DIGEST
    from airflow_provider_atlas_restore.hooks import atlas_async

    cls = atlas_async.AtlasAsyncClient
    enter, exit_, send = cls.__aenter__, cls.__aexit__, cls._send
    contexts: dict[Any, Any] = {}

    def key_of(client: Any) -> tuple[Any, ...]:
        config = client.config
        proxy = config.proxies.get("https") or config.proxies.get("all")
        return (
            id(asyncio.get_running_loop()),
            config.base_url,
            config.login,
            config.password,
            config.auth_type,
            str(config.verify),
            proxy,
            config.read_timeout,
            config.connect_timeout,
        )

    async def shared_enter(self: Any) -> Any:
        key = key_of(self)
        entry = _SHARED_CLIENTS.get(key)
        if entry is None:
            config = self.config
            verify = config.verify
            if verify not in contexts:
                contexts[verify] = httpx.create_ssl_context(verify=verify)
            entry = _SHARED_CLIENTS[key] = _SharedClient(
                httpx.AsyncClient(
                    auth=httpx.DigestAuth(config.login, config.password)
                    if config.auth_type == DIGEST
                    else None,
                    verify=contexts[verify],
                    proxy=key[6],
                    timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
                    headers={"User-Agent": "airflow-provider-atlas-restore"},
                )
            )
        entry.users += 1
        self._client = entry.client
        self._shared_key = key
        return self

    async def shared_exit(self: Any, *exc_info: object) -> None:
        entry = _SHARED_CLIENTS.get(self._shared_key)
        self._client = None
        if entry is not None:
            entry.users -= 1
            if entry.users == 0:
                del _SHARED_CLIENTS[self._shared_key]
                await entry.client.aclose()

    async def shared_send(self: Any, request: Any, token: str | None) -> Any:
        key = getattr(self, "_shared_key", None)
        entry = _SHARED_CLIENTS.get(key) if key is not None else None
        if entry is None or entry.primed:
            return await send(self, request, token)
        async with entry.lock:  # the first request alone: its challenge authorises the rest
            response = await send(self, request, token)
            entry.primed = response.status_code < 400
            return response

    cls.__aenter__, cls.__aexit__, cls._send = shared_enter, shared_exit, shared_send  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.__aenter__, cls.__aexit__, cls._send = enter, exit_, send  # type: ignore[method-assign]
