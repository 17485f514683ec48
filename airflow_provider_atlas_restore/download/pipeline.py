"""Receive a download into reused buffers and run its stages (write, hash, check) in threads of their own."""

from __future__ import annotations

import functools
import http.client
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

__all__ = ["DEFAULT_QUEUE_DEPTH", "BufferPool", "Chunk", "ChunkPipeline", "receive"]

#: Chunks a stage may hold waiting: with 1 MiB chunks, at most this many MiB per stage.
DEFAULT_QUEUE_DEPTH = 8

#: What stages are given: bytes, or a view of a reused buffer.
Chunk = bytes | memoryview


class _Handout:
    """One chunk on its way through every stage; ``release`` runs once the last stage is done with it."""

    __slots__ = ("_lock", "_release", "_remaining", "chunk")

    def __init__(self, chunk: Chunk, stages: int, release: Callable[[], None] | None) -> None:
        self.chunk = chunk
        self._remaining = stages
        self._release = release
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
        if last and self._release is not None:
            self._release()


class BufferPool:
    """
    A fixed set of reusable buffers: receiving into them spares a new allocation per chunk.

    :meth:`take` waits while every buffer is out, so the buffers also bound how far the
    receiver can run ahead of the slowest stage.

    :param count: how many buffers.
    :param size: the size of each, in bytes.
    """

    def __init__(self, count: int, size: int) -> None:
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(count):
            self._free.put(bytearray(size))

    def take(self) -> bytearray:
        """Return a free buffer, waiting for one if all are in use."""
        return self._free.get()

    def give_back(self, buffer: bytearray) -> None:
        """
        Make ``buffer`` free again; nothing may use it afterwards.

        :param buffer: a buffer from :meth:`take`.
        """
        self._free.put(buffer)


class ChunkPipeline:
    """
    Hand every chunk to each stage, in order, with each stage running in its own thread.

    Writing a file, hashing (``hashlib``) and inflating (``zlib``) all release the GIL, so the
    thread that receives, the one that writes and the one that checks run on different cores
    instead of taking turns. Every stage sees every chunk in the order given. A stage's queue
    holds at most ``depth`` chunks, so memory stays bounded whatever the file's size: the
    receiver waits when a stage falls behind.

    The first exception raised by a stage is kept; from then on every stage drops what it is
    given, :meth:`put` raises that exception and :meth:`finish` raises it after the threads
    have ended. After :meth:`finish` each stage has processed exactly the chunks put before it
    (unless one failed), so counters kept by the stages are exact, for a resume for example.

    Use as ``with ChunkPipeline(stages) as pipeline: ... pipeline.put(chunk) ... pipeline.finish()``;
    leaving the block early (an exception) stops the threads without running the rest.

    :param stages: ``(name, function)`` pairs; each function is called with every chunk.
    :param depth: the most chunks waiting for one stage.
    """

    def __init__(
        self, stages: Sequence[tuple[str, Callable[[Chunk], None]]], depth: int = DEFAULT_QUEUE_DEPTH
    ) -> None:
        if not stages:
            raise ValueError("ChunkPipeline needs at least one stage.")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}.")
        self._stages = list(stages)
        self._queues: list[queue.Queue[_Handout | None]] = [queue.Queue(maxsize=depth) for _ in stages]
        self._threads = [
            threading.Thread(
                target=self._serve, args=(work, inbox), name=f"atlas-download-{name}", daemon=True
            )
            for (name, work), inbox in zip(self._stages, self._queues, strict=True)
        ]
        self._failures: list[BaseException] = []
        self._cancelled = False
        self._finished = False

    def __enter__(self) -> ChunkPipeline:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._finished:
            return
        if exc is not None:
            self._cancelled = True  # the stages drop what is still queued
            self._stop()
        else:
            self.finish()

    @property
    def failed(self) -> bool:
        """Return whether a stage has raised."""
        return bool(self._failures)

    @property
    def stopping(self) -> bool:
        """Return whether the block was left early, so that the stages drop what is still queued."""
        return self._cancelled

    def put(self, chunk: Chunk, release: Callable[[], None] | None = None) -> None:
        """
        Give ``chunk`` to every stage; wait while a stage's queue is full.

        :param chunk: the next bytes (a view of a reused buffer is fine, with ``release``).
        :param release: called once every stage is done with ``chunk`` (or has dropped it),
            for example to give its buffer back to a :class:`BufferPool`.
        """
        if self._failures:
            raise self._failures[0]
        handout = _Handout(chunk, len(self._queues), release)
        for inbox in self._queues:
            inbox.put(handout)

    def finish(self) -> None:
        """Wait until every stage has processed every chunk, then raise the first stage's failure, if any."""
        self._stop()
        if self._failures:
            raise self._failures[0]

    def _stop(self) -> None:
        if self._finished:
            return
        self._finished = True
        for inbox in self._queues:
            inbox.put(None)
        for thread in self._threads:
            thread.join()

    def _serve(self, work: Callable[[Chunk], None], inbox: queue.Queue[_Handout | None]) -> None:
        while (handout := inbox.get()) is not None:
            try:
                # After a failure, keep taking chunks (dropping them) so the receiver never waits
                # on a queue nobody empties nor on a buffer nobody gives back.
                if not (self._failures or self._cancelled):
                    work(handout.chunk)
            except BaseException as error:  # handed to the receiving thread, which raises it
                self._failures.append(error)
            finally:
                handout.done()


def receive(raw: Any, chunk_size: int) -> Iterator[tuple[Chunk, Callable[[], None] | None]]:
    """
    Yield a raw (not decoded) HTTP body in chunks, each with what to call once stages are done with it.

    Under a ``urllib3`` response is an ``http.client`` one, which reads straight into a buffer:
    a few buffers reused in turn spare a new allocation and a copy per chunk (measured: a third
    of the receiving thread's CPU). Any other body is read with ``urllib3``'s own ``stream``.
    A body that ends before its ``Content-Length`` raises ``http.client.IncompleteRead``.

    A read that fails (a read timeout: no byte for ``timeout`` seconds) first yields the bytes
    that did arrive into the buffer, then raises, so a resume asks only for what is missing.
    The timeout is per read, so a slow but steady trickle is never cut.

    :param raw: the ``urllib3`` response of a streamed ``requests`` response (``response.raw``).
    :param chunk_size: the most bytes in one chunk.
    """
    source = getattr(raw, "_fp", None)
    if not isinstance(source, http.client.HTTPResponse):
        for data in raw.stream(chunk_size, decode_content=False):
            yield data, None
        return
    pool = BufferPool(DEFAULT_QUEUE_DEPTH + 2, chunk_size)
    fill = _reader(source)
    while True:
        buffer = pool.take()
        try:
            size = fill(buffer)
        except _PartialRead as partial:
            if partial.size:
                yield memoryview(buffer)[: partial.size], functools.partial(pool.give_back, buffer)
            raise partial.error from None
        if not size:
            missing = source.length  # what Content-Length still promised, if it said anything
            if missing:
                raise http.client.IncompleteRead(b"", missing)  # as urllib3 would say it
            return
        yield memoryview(buffer)[:size], functools.partial(pool.give_back, buffer)


class _PartialRead(Exception):
    """A read failed after ``size`` bytes had already arrived into the buffer."""

    def __init__(self, size: int, error: Exception) -> None:
        super().__init__(size)
        self.size = size
        self.error = error


def _reader(source: http.client.HTTPResponse) -> Callable[[bytearray], int]:
    """
    Return how to fill a buffer from ``source``: as ``HTTPResponse.readinto`` does, keeping what arrived.

    ``HTTPResponse.readinto`` reads through a ``BufferedReader`` that waits until the buffer is
    full: when the server goes silent, the bytes already in the buffer are lost with the
    timeout, and a server that stalls before each first ``chunk_size`` bytes is never resumed
    past byte 0. Filling with ``readinto1`` (one socket read each) keeps count of every byte,
    and the ``Content-Length`` bookkeeping is ``HTTPResponse``'s own. Chunked bodies keep
    ``HTTPResponse.readinto`` (their framing lives there).
    """
    stream = source.fp
    read_once = getattr(stream, "readinto1", None)
    if source.chunked or read_once is None:
        return source.readinto

    def fill(buffer: bytearray) -> int:
        if source.fp is None:
            return 0
        view = memoryview(buffer)
        if source.length is not None and len(view) > source.length:
            view = view[: source.length]  # never read past the end of the answer
        wanted, filled = len(view), 0
        while filled < wanted:
            try:
                got = read_once(view[filled:])
            except Exception as error:  # a timeout, a reset: keep what arrived, then let it be seen
                _account(source, filled)
                raise _PartialRead(filled, error) from None
            if not got:
                break
            filled += got
        _account(source, filled)
        return filled

    return fill


def _account(source: http.client.HTTPResponse, size: int) -> None:
    """Count ``size`` bytes read past ``source``, as ``HTTPResponse.readinto`` would."""
    if source.length is not None:
        source.length -= size
        if not source.length:
            # An empty read at the end lets http.client close the answer as its own readinto
            # does, so urllib3 may keep the connection for the next request.
            source.readinto(bytearray())
