"""
The Atlas emulator in a process of its own, as Atlas would be: seeded, with a control line.

``run.py`` starts ``python -m benchmarks.emulator_proc``; it prints one JSON line describing
itself, then serves until its control line says ``stop`` (or stdin closes, or a time limit).
The control line is a ``multiprocessing.connection`` listener on 127.0.0.1 with a random key;
the figure modules use it, outside their timed regions, to reset counters, set the latency, make
fresh download jobs and arm faults. Three things differ from the stock emulator: it counts the
download body bytes it writes to sockets (figure 7), by wrapping its handler's ``_write``; it
remembers which restore jobs were read (figure 5), by wrapping ``ApiHandlers._get_job``; and it
listens with a longer accept queue (``LISTEN_BACKLOG``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, Listener
from typing import Any

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing import server as emulator_server
from airflow_provider_atlas_restore.testing.handlers import ApiHandlers
from airflow_provider_atlas_restore.testing.tarball import tarball

LIST_CLUSTER = "List0"
WAIT_CLUSTER = "Wait0"
DOWNLOAD_CLUSTER = "Dl0"
#: The longest this process lives, whatever happens to its parent.
MAX_LIFETIME = 3600.0


class _ByteCounter:
    """Count body bytes written to download sockets (the first write of an answer is its headers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.body_bytes = 0

    def add(self, count: int) -> None:
        with self.lock:
            self.body_bytes += count


class _CountingWriter:
    def __init__(self, inner: Any, counter: _ByteCounter) -> None:
        self.inner = inner
        self.counter = counter
        self.writes = 0

    def write(self, data: bytes) -> int:
        written = self.inner.write(data)
        self.writes += 1
        if self.writes > 1:  # the first write is the status line and headers
            self.counter.add(len(data))
        return int(written or 0)

    def flush(self) -> None:
        self.inner.flush()


def _count_download_bytes(counter: _ByteCounter) -> None:
    original: Callable[..., None] = emulator_server._Handler._write

    def _write(self: Any, answer: Any, cut: int | None) -> None:
        if answer.stream is None:
            original(self, answer, cut)
            return
        real = self.wfile
        self.wfile = _CountingWriter(real, counter)
        try:
            original(self, answer, cut)
        finally:
            self.wfile = real

    emulator_server._Handler._write = _write  # type: ignore[method-assign]


#: The emulator listens with a backlog of 128; 1,000 triggers that each open a connection at the
#: same moment overflow it, and the kernel then retries their SYNs after 1, 3, 7, 15 s...
#: Real Atlas is no such bottleneck, so the benchmark's emulator gets a longer queue.
LISTEN_BACKLOG = 2048


class Bench:
    """The seeded emulator and the commands its control line accepts."""

    def __init__(self, list_jobs: int, sizes: list[int]) -> None:
        self.counter = _ByteCounter()
        _count_download_bytes(self.counter)
        emulator_server._Server.request_queue_size = LISTEN_BACKLOG
        self.polled: set[str] = set()
        self._record_polls()
        self.emu = AtlasEmulator(seed="bench", nonce_ttl=3600.0).start()
        emu = self.emu
        self.group_id = emu.add_project(name="bench")
        for name in (LIST_CLUSTER, WAIT_CLUSTER, DOWNLOAD_CLUSTER):
            emu.add_cluster(self.group_id, name)
            emu.add_snapshot(self.group_id, name, created_at=emu.clock.now() - 3600, size_bytes=1 << 20)
        emu.add_restore_jobs(self.group_id, LIST_CLUSTER, list_jobs, ready_after=0.0)
        self.snapshots = {
            size: emu.add_snapshot(self.group_id, DOWNLOAD_CLUSTER, size_bytes=size)["id"] for size in sizes
        }
        self.list_jobs = list_jobs

    def _record_polls(self) -> None:
        """Remember which restore jobs were read (figure 5 waits until every trigger has polled)."""
        original = ApiHandlers._get_job
        polled, lock = self.polled, threading.Lock()

        def _get_job(handlers: Any, req: Any, view: Any) -> Any:
            with lock:
                polled.add(req.params.get("job_id", ""))
            return original(handlers, req, view)

        ApiHandlers._get_job = _get_job  # type: ignore[method-assign,assignment]

    def describe(self, control: tuple[str, int]) -> dict[str, Any]:
        emu = self.emu
        return {
            "base_url": emu.base_url,
            "host": "127.0.0.1",
            "port": emu.port,
            "pid": os.getpid(),
            "control": list(control),
            "group_id": self.group_id,
            "public_key": emu.public_key,
            "private_key": emu.private_key,
            "list_cluster": LIST_CLUSTER,
            "list_jobs": self.list_jobs,
            "wait_cluster": WAIT_CLUSTER,
            "download_cluster": DOWNLOAD_CLUSTER,
        }

    # -- commands --------------------------------------------------------------------------
    def cmd_reset(self) -> None:
        self.emu.stats.reset()
        self.emu.faults.clear()
        with self.counter.lock:
            self.counter.body_bytes = 0

    def cmd_stats(self) -> dict[str, Any]:
        stats = self.emu.stats.as_dict()
        stats["download_body_bytes"] = self.counter.body_bytes
        return stats

    def cmd_count(
        self, route: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        return self.emu.stats.count(route=route, method=method, status=status)

    def cmd_set(self, name: str, value: Any) -> None:
        if name not in ("latency", "single_use_links", "ready_after"):
            raise ValueError(f"unknown setting {name}")
        setattr(self.emu, name, value)

    def cmd_cpu(self) -> float:
        times = os.times()
        return times.user + times.system

    def cmd_threads(self) -> int:
        return threading.active_count()

    def cmd_download_job(self, size: int) -> dict[str, Any]:
        emu = self.emu
        snapshot_id = self.snapshots[size]
        job = emu.add_restore_job(
            self.group_id, DOWNLOAD_CLUSTER, snapshot_id=snapshot_id, ready_after=0.0, download_size=size
        )
        url = emu.download_urls(self.group_id, DOWNLOAD_CLUSTER, job["id"])[0]
        link = emu.store.links[url.split("/")[-2]]
        length = tarball(link.archive_name, link.size, link.mtime).length
        return {"job_id": job["id"], "url": url, "length": length}

    def cmd_pending_jobs(self, count: int, ready_after: float) -> list[str]:
        return self.emu.add_restore_jobs(self.group_id, WAIT_CLUSTER, count, ready_after=ready_after)

    def cmd_polled(self, ids: list[str]) -> int:
        return len(self.polled.intersection(ids))

    def cmd_finish_jobs(self, ids: list[str]) -> None:
        for job_id in ids:
            self.emu.finish_job(self.group_id, WAIT_CLUSTER, job_id)

    def cmd_fault(self, **arguments: Any) -> None:
        self.emu.faults.add(**arguments)


def _serve_control(bench: Bench, listener: Listener, done: threading.Event) -> None:
    def handle(conn: Connection) -> None:
        with conn:
            while not done.is_set():
                try:
                    command, arguments = conn.recv()
                except (EOFError, OSError):
                    return
                if command == "stop":
                    conn.send((True, None))
                    done.set()
                    return
                try:
                    conn.send((True, getattr(bench, f"cmd_{command}")(**arguments)))
                except Exception as error:
                    conn.send((False, f"{type(error).__name__}: {error}"))

    while not done.is_set():
        try:
            conn = listener.accept()
        except (OSError, EOFError):
            return
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def _watch_stdin(done: threading.Event) -> None:
    sys.stdin.read()  # returns when the parent closes the pipe or dies
    done.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list-jobs", type=int, default=10_000)
    parser.add_argument("--sizes", default=str(1 << 30), help="comma-separated archive sizes in bytes")
    args = parser.parse_args()
    key = bytes.fromhex(os.environ["BENCH_CONTROL_KEY"])
    bench = Bench(args.list_jobs, [int(size) for size in args.sizes.split(",") if size])
    listener = Listener(("127.0.0.1", 0), authkey=key)
    done = threading.Event()
    threading.Thread(target=_serve_control, args=(bench, listener, done), daemon=True).start()
    threading.Thread(target=_watch_stdin, args=(done,), daemon=True).start()
    print(json.dumps(bench.describe(listener.address)), flush=True)
    done.wait(MAX_LIFETIME)
    listener.close()
    bench.emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
