"""
Figure 5: 100, 500 and 1,000 ``AtlasRestoreJobTrigger``s in one event loop, polling the emulator.

Each count runs in an interpreter of its own (so memory is its own): N triggers poll N pending
jobs every ``--poll`` seconds in one asyncio loop; once every job has been polled (all N waits
alive at once) and ``--hold`` seconds more, the jobs become ready and each trigger yields its
one event. Reported: wall time, requests per poll (all, and
after each trigger's one Digest challenge), RSS (absolute, and added over the interpreter with
Airflow and the provider imported), and event-loop lag (a 50 ms ticker's overshoot).
There is no baseline: the HTTP provider's trigger cannot do Digest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.common import (
    ATLAS_CONN_ID,
    RESULT_PREFIX,
    Control,
    EmulatorInfo,
    Row,
    connection_env,
    emit,
    environment,
    log,
    median,
)

TICK = 0.05
RSS_BUDGET = 200 * 1024 * 1024


class RssSampler:
    """Sample this process's RSS every 20 ms in a thread; keep the peak."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        while not self._stop.wait(0.02) and time.monotonic() < deadline:
            self.peak = max(self.peak, self.process.memory_info().rss)

    @contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.process.memory_info().rss)


async def _lag_monitor(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append(max(0.0, time.perf_counter() - started - TICK))


async def _wait_all(triggers: list[Any], limit: float) -> tuple[list[dict[str, Any]], list[float]]:
    async def consume(trigger: Any) -> dict[str, Any]:
        async for event in trigger.run():
            payload: dict[str, Any] = event.payload
            return payload
        return {"status": "no event"}

    lags: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.ensure_future(_lag_monitor(lags, stop))
    try:
        events = await asyncio.wait_for(asyncio.gather(*(consume(t) for t in triggers)), timeout=limit)
    finally:
        stop.set()
        await monitor
    return list(events), lags


def _release_when_all_waiting(control: Control, ids: list[str], hold: float, done: threading.Event) -> None:
    """Make the jobs ready once every trigger has polled its job and ``hold`` more seconds passed."""
    deadline = time.monotonic() + 300
    while not done.wait(0.2) and time.monotonic() < deadline:
        if control("polled", ids=ids) == len(ids):
            done.wait(hold)
            control("finish_jobs", ids=ids)
            return


def one_run(info: EmulatorInfo, control: Control, count: int, poll: float, hold: float) -> dict[str, Any]:
    """
    Make ``count`` pending jobs and wait for all of them with triggers, all waiting at once.

    The jobs become ready only when every trigger has polled its job at least once, and ``hold``
    seconds later: so the peak memory is that of ``count`` waits alive together, however long
    the triggers take to start.
    """
    from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

    ids = control("pending_jobs", count=count, ready_after=3600.0)
    control("reset")
    cpu_before = control("cpu")
    triggers = [
        AtlasRestoreJobTrigger(
            atlas_conn_id=ATLAS_CONN_ID,
            group_id=info.group_id,
            cluster_name=info.wait_cluster,
            restore_job_id=job_id,
            poll_interval=poll,
            timeout_at=time.time() + 300,
        )
        for job_id in ids
    ]
    sampler = RssSampler()
    rss_before = sampler.peak
    released = threading.Event()
    releaser = threading.Thread(
        target=_release_when_all_waiting, args=(control, ids, hold, released), daemon=True
    )
    started = time.perf_counter()
    releaser.start()
    try:
        with sampler.running():
            events, lags = asyncio.run(_wait_all(triggers, 300))
    finally:
        released.set()
        releaser.join()
    wall = time.perf_counter() - started
    stats = control("stats")
    polls = control("count", route="get_restore_job", status=200)
    requests = control("count", route="get_restore_job")
    lags.sort()
    return {
        "count": count,
        "success": sum(1 for event in events if event.get("status") == "success"),
        "wall_s": wall,
        "polls": polls,
        "requests": requests,
        "challenges": stats["challenges"],
        "connections": stats["connections"],
        "requests_per_poll": requests / polls if polls else None,
        "steady_requests_per_poll": (requests - stats["challenges"]) / polls if polls else None,
        "rss_before": rss_before,
        "rss_peak": sampler.peak,
        "lag_p50_ms": 1000 * statistics.median(lags) if lags else None,
        "lag_p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))] if lags else None,
        "lag_max_ms": 1000 * lags[-1] if lags else None,
        "emulator_cpu_s": control("cpu") - cpu_before,
    }


def run_count(count: int, runs: int, poll: float, hold: float) -> dict[str, Any]:
    """Warm-up and ``runs`` runs for one trigger count, in this interpreter."""
    import psutil

    info = EmulatorInfo.from_env()
    control = Control(info)
    with environment(**connection_env(info)):
        import airflow_provider_atlas_restore.triggers.restore_job  # noqa: F401  (imported before measuring)

        rss_imported = psutil.Process().memory_info().rss
        results = []
        for index in range(runs + 1):
            # The warm-up (10 triggers) warms imports and caches without taking a full run's time.
            result = one_run(info, control, count if index else min(count, 10), poll, hold)
            log(
                f"  {result['count']} triggers, run {index + 1}/{runs + 1}: "
                f"{result['wall_s']:.1f}s, {result['requests_per_poll']:.3f} req/poll, "
                f"peak RSS {result['rss_peak'] / 2**20:.0f} MiB, lag p99 {result['lag_p99_ms']:.0f} ms"
            )
            if index:
                results.append(result)
    control.close()
    summary: dict[str, Any] = {"count": count, "runs": results, "rss_imported": rss_imported}
    for key in results[0]:
        values = [r[key] for r in results if isinstance(r[key], (int, float))]
        if values and key != "count":
            summary[key] = median(values)
    summary["rss_peak_max"] = max(r["rss_peak"] for r in results)
    return summary


def _spawn(count: int, runs: int, poll: float, hold: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.fig_triggers", "--count", str(count), "--runs", str(runs)]
    command += ["--poll", str(poll), "--hold", str(hold)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=600, check=True, env=os.environ)
    line = next(line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX))
    summary: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])["extra"]
    return summary


def _row(fig: str, summary: dict[str, Any], label: str) -> Row:
    count = summary["count"]
    peak, imported = summary["rss_peak_max"], summary["rss_imported"]
    steady = summary["steady_requests_per_poll"]
    met = summary["success"] == count and steady <= 1.0 + 1e-9
    if count >= 1000:
        met = met and peak <= RSS_BUDGET
    mib = 2**20
    return Row(
        fig,
        f"{count:,} deferred waits in one event loop{label}: peak RSS",
        peak / mib,
        "MiB",
        None,
        "none (HttpTrigger has no Digest)",
        "1,000 within 200 MB RSS; 1 request per poll; lag reported",
        met,
        runs=len(summary["runs"]),
        note=(
            f"added {(peak - imported) / mib:.0f} MiB over {imported / mib:.0f} MiB imported "
            f"({(peak - imported) / count / 1024:.0f} KiB/trigger); "
            f"{summary['requests_per_poll']:.3f} req/poll overall, {steady:.3f} after the challenge; "
            f"lag p50 {summary['lag_p50_ms']:.1f} / p99 {summary['lag_p99_ms']:.0f} / max "
            f"{summary['lag_max_ms']:.0f} ms; wall {summary['wall_s']:.1f} s; "
            f"{summary['success']:.0f}/{count} succeeded"
        ),
        detail={k: v for k, v in summary.items() if k != "runs"},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--counts", default="100,500,1000")
    parser.add_argument("--count", type=int, default=None, help="(internal) one count, in this process")
    parser.add_argument("--poll", type=float, default=1.5)
    parser.add_argument(
        "--hold", type=float, default=3.0, help="seconds all triggers wait together before the jobs get ready"
    )
    args = parser.parse_args()
    if args.count is not None:
        summary = run_count(args.count, args.runs, args.poll, args.hold)
        print(RESULT_PREFIX + json.dumps({"rows": [], "extra": summary}), flush=True)
        return 0
    rows = []
    for count in (int(c) for c in args.counts.split(",")):
        log(f"figure 5: {count} triggers")
        rows.append(_row("5", _spawn(count, args.runs, args.poll, args.hold), ""))
    emit(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
