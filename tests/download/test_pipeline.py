"""ChunkPipeline: every stage sees every chunk in order, in threads of its own; failures reach the receiver."""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import urllib3

from airflow_provider_atlas_restore.download.pipeline import (
    DEFAULT_QUEUE_DEPTH,
    BufferPool,
    Chunk,
    ChunkPipeline,
    receive,
)

CHUNKS = [bytes([n]) * (n + 1) for n in range(200)]


class Boom(Exception):
    pass


def pipeline_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("atlas-download-")]


def feed(pipeline: ChunkPipeline, before_finish: Callable[[ChunkPipeline], None] | None = None) -> None:
    """Put every chunk through ``pipeline`` as a download does, then wait for its stages."""
    with pipeline:
        for chunk in CHUNKS:
            pipeline.put(chunk)
        if before_finish is not None:
            before_finish(pipeline)
        pipeline.finish()


def test_every_stage_sees_every_chunk_in_order():
    seen: dict[str, list[bytes]] = {"a": [], "b": [], "c": []}
    with ChunkPipeline([(name, seen[name].append) for name in seen], depth=2) as pipeline:
        for chunk in CHUNKS:
            pipeline.put(chunk)
        pipeline.finish()
    assert seen == {"a": CHUNKS, "b": CHUNKS, "c": CHUNKS}


def test_stages_run_outside_the_receiving_thread():
    names: set[str] = set()
    with ChunkPipeline([("write", lambda chunk: names.add(threading.current_thread().name))]) as pipeline:
        pipeline.put(b"x")
        pipeline.finish()
    assert names == {"atlas-download-write"}


def test_finish_raises_the_failure_of_a_stage():
    def fail(chunk: bytes) -> None:
        raise Boom("disk full")

    with ChunkPipeline([("write", fail)]) as pipeline:
        pipeline.put(b"x")
        with pytest.raises(Boom, match="disk full"):
            pipeline.finish()


@pytest.mark.timeout(30)
def test_a_failed_stage_never_leaves_the_receiver_waiting_on_a_full_queue():
    def fail(chunk: bytes) -> None:
        raise Boom("corrupt")

    pipeline = ChunkPipeline([("gzip", fail), ("write", lambda chunk: None)], depth=1)
    with pytest.raises(Boom, match="corrupt"):
        feed(pipeline)
    assert pipeline.failed


def wait_until(condition: Callable[[], bool]) -> None:
    while not condition():
        time.sleep(0.001)


def test_stages_drop_what_follows_a_failure():
    written: list[bytes] = []
    pipelines: list[ChunkPipeline] = []

    def check(chunk: bytes) -> None:
        if chunk == CHUNKS[3]:
            raise Boom("bad chunk")

    def write(chunk: bytes) -> None:
        wait_until(lambda: pipelines[0].failed)  # the check has failed before anything is written
        written.append(chunk)

    pipelines.append(ChunkPipeline([("check", check), ("write", write)], depth=len(CHUNKS)))
    with pytest.raises(Boom):
        feed(pipelines[0])
    assert written in ([], CHUNKS[:1])  # at most the chunk in hand when the check failed


def test_leaving_the_block_with_an_error_stops_the_threads_without_the_rest():
    processed: list[bytes] = []
    started, release = threading.Event(), threading.Event()

    def slow(chunk: bytes) -> None:
        started.set()
        release.wait()
        processed.append(chunk)

    def interrupt(pipeline: ChunkPipeline) -> None:
        started.wait()  # the stage holds the first chunk
        # Let the stage go on only once the block has been left.
        threading.Thread(target=lambda: (wait_until(lambda: pipeline.stopping), release.set())).start()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        feed(ChunkPipeline([("write", slow)], depth=len(CHUNKS)), before_finish=interrupt)
    assert not pipeline_threads()
    assert processed == CHUNKS[:1]


def test_threads_end_with_the_block():
    with ChunkPipeline([("write", lambda chunk: None), ("sha256", lambda chunk: None)]) as pipeline:
        assert len(pipeline_threads()) == 2
        pipeline.put(b"x")
    assert not pipeline_threads()


@pytest.mark.parametrize(
    ("stages", "depth", "message"),
    [([], 4, "at least one stage"), ([("write", lambda chunk: None)], 0, "depth must be at least 1")],
)
def test_bad_arguments_are_refused(stages, depth, message):
    with pytest.raises(ValueError, match=message):
        ChunkPipeline(stages, depth=depth)


def test_each_chunk_is_released_once_after_every_stage_is_done_with_it():
    seen: dict[str, list[bytes]] = {"write": [], "sha256": []}
    released: list[int] = []

    def record(name: str) -> Callable[[Chunk], None]:
        return lambda chunk: seen[name].append(bytes(chunk))

    def release(index: int) -> Callable[[], None]:
        def done() -> None:
            # Released only once both stages have the chunk: nothing may still read the buffer.
            assert all(len(chunks) > index for chunks in seen.values())
            released.append(index)

        return done

    with ChunkPipeline([(name, record(name)) for name in seen], depth=2) as pipeline:
        for index, chunk in enumerate(CHUNKS):
            pipeline.put(chunk, release(index))
        pipeline.finish()
    assert sorted(released) == list(range(len(CHUNKS)))


def test_chunks_dropped_after_a_failure_are_released_too():
    released: list[int] = []

    def fail(chunk: Chunk) -> None:
        raise Boom("corrupt")

    def put_ten(pipeline: ChunkPipeline) -> None:
        for index, chunk in enumerate(CHUNKS[:10]):
            pipeline.put(chunk, lambda index=index: released.append(index))
        pipeline.finish()

    pipeline = ChunkPipeline([("gzip", fail), ("write", lambda chunk: None)], depth=len(CHUNKS))
    with pytest.raises(Boom), pipeline:
        put_ten(pipeline)
    assert sorted(released) == list(range(10))


def test_buffer_pool_lends_each_buffer_once_until_it_is_given_back():
    pool = BufferPool(2, 16)
    first, second = pool.take(), pool.take()
    assert first is not second
    assert len(first) == len(second) == 16
    taken: list[bytearray] = []
    waiting = threading.Thread(target=lambda: taken.append(pool.take()))
    waiting.start()
    waiting.join(timeout=0.2)
    assert waiting.is_alive()  # every buffer is out: the taker waits
    assert taken == []
    pool.give_back(second)
    waiting.join(timeout=10)
    assert taken == [second]


class ServedBody:
    """An HTTP answer with ``body`` behind a real socket pair, read through ``http.client``."""

    def __init__(self, body: bytes, content_length: int) -> None:
        self.near, far = socket.socketpair()
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {content_length}\r\n\r\n".encode()
        threading.Thread(target=lambda: (far.sendall(head + body), far.close()), daemon=True).start()
        self.response = http.client.HTTPResponse(self.near)
        self.response.begin()


def test_received_chunks_are_views_of_reused_buffers_with_the_whole_body():
    body = bytes(range(256)) * 4096  # 1 MiB
    served = ServedBody(body, len(body))
    raw = urllib3.HTTPResponse(body=served.response, preload_content=False)
    received = bytearray()
    buffers: set[int] = set()
    for chunk, release in receive(raw, 64 << 10):
        assert isinstance(chunk, memoryview)
        assert release is not None
        buffers.add(id(chunk.obj))
        received += chunk
        release()
    assert received == body
    assert len(buffers) <= DEFAULT_QUEUE_DEPTH + 2  # 16 chunks through a few buffers


def drain(chunks: Iterator[tuple[Chunk, Callable[[], None] | None]]) -> int:
    """Read every chunk, releasing each; return the bytes read."""
    total = 0
    for chunk, release in chunks:
        total += len(chunk)
        if release is not None:
            release()
    return total


def test_a_body_shorter_than_its_content_length_is_incomplete():
    served = ServedBody(b"x" * 1000, 5000)
    raw = urllib3.HTTPResponse(body=served.response, preload_content=False)
    with pytest.raises(http.client.IncompleteRead):
        drain(receive(raw, 512))


def test_other_bodies_are_read_with_urllib3_stream():
    raw = urllib3.HTTPResponse(body=io.BytesIO(b"abc" * 1000), preload_content=False)
    chunks = list(receive(raw, 1000))
    assert [len(chunk) for chunk, _ in chunks] == [1000, 1000, 1000]
    assert b"".join(bytes(chunk) for chunk, _ in chunks) == b"abc" * 1000
    assert all(release is None for _, release in chunks)
