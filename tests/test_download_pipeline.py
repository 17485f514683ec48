"""ChunkPipeline: every stage sees every chunk in order, in threads of its own; failures reach the receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from airflow_provider_atlas_restore.download_pipeline import ChunkPipeline

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
    release = threading.Event()

    def slow(chunk: bytes) -> None:
        release.wait()
        processed.append(chunk)

    def interrupt(pipeline: ChunkPipeline) -> None:
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
