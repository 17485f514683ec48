"""Run the stages of a download (write, check) in threads of their own, fed through bounded queues."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

__all__ = ["DEFAULT_QUEUE_DEPTH", "ChunkPipeline"]

#: Chunks a stage may hold waiting: with 1 MiB chunks, at most this many MiB per stage.
DEFAULT_QUEUE_DEPTH = 8

_STOP = None


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
        self, stages: Sequence[tuple[str, Callable[[bytes], None]]], depth: int = DEFAULT_QUEUE_DEPTH
    ) -> None:
        if not stages:
            raise ValueError("ChunkPipeline needs at least one stage.")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}.")
        self._stages = list(stages)
        self._queues: list[queue.Queue[bytes | None]] = [queue.Queue(maxsize=depth) for _ in stages]
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

    def put(self, chunk: bytes) -> None:
        """
        Give ``chunk`` to every stage; wait while a stage's queue is full.

        :param chunk: the next bytes.
        """
        if self._failures:
            raise self._failures[0]
        for inbox in self._queues:
            inbox.put(chunk)

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
            inbox.put(_STOP)
        for thread in self._threads:
            thread.join()

    def _serve(self, work: Callable[[bytes], None], inbox: queue.Queue[bytes | None]) -> None:
        while (chunk := inbox.get()) is not _STOP:
            if self._failures or self._cancelled:
                continue  # keep taking chunks, so the receiver never waits on a queue nobody empties
            try:
                work(chunk)
            except BaseException as error:  # handed to the receiving thread, which raises it
                self._failures.append(error)
