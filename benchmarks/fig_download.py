"""
Figures 6 and 7: snapshot download throughput beside ``curl -o``, and what a drop at 90% costs.

Links are single-use in the emulator (as in Atlas), so every run, ours or curl's, gets a fresh
ready job (``single_use_links`` stays on). Ours is ``AtlasDownloadSnapshotOperator.execute``
with ``restore_job_id``: it reads the job from the API, streams, hashes (sha256), gzip-checks and
fsyncs the file, then renames it. Files go to ``benchmarks/.work/dl`` and are removed after each run.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.common import (
    ATLAS_CONN_ID,
    WORK,
    Control,
    EmulatorInfo,
    Row,
    connection_env,
    emit,
    environment,
    log,
    median,
)

GIB = 1 << 30
MIB = 1 << 20
DEST = WORK / "dl"
RSS_BUDGET = 100 * MIB


class PeakRss:
    """Sample this process's RSS every 10 ms while a block runs; keep the peak."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self._stop = threading.Event()

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        while not self._stop.wait(0.01) and time.monotonic() < deadline:
            self.peak = max(self.peak, self.process.memory_info().rss)

    @contextmanager
    def running(self) -> Iterator[PeakRss]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def _clean() -> None:
    shutil.rmtree(DEST, ignore_errors=True)
    DEST.mkdir(parents=True)


def ours(info: EmulatorInfo, job: dict[str, Any], **operator_args: Any) -> int:
    """Download a job's archive with our operator; return the bytes written."""
    return ours_result(info, job, **operator_args)[0]


def ours_result(info: EmulatorInfo, job: dict[str, Any], **operator_args: Any) -> tuple[int, str]:
    """Download a job's archive with our operator; return the bytes written and their sha256."""
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

    operator = AtlasDownloadSnapshotOperator(
        task_id="download_snapshot",
        restore_job_id=job["job_id"],
        cluster_name=info.download_cluster,
        atlas_conn_id=ATLAS_CONN_ID,
        destination=str(DEST),
        progress_interval=60.0,
        **operator_args,
    )
    results: list[dict[str, Any]] = operator.execute({})
    return sum(int(result["bytes"]) for result in results), ",".join(result["sha256"] for result in results)


_DIGESTS: dict[int, str] = {}


def ours_checked(info: EmulatorInfo, job: dict[str, Any]) -> int:
    """Our operator as shipped; every download of the same archive must give the same sha256."""
    written, digest = ours_result(info, job)
    if _DIGESTS.setdefault(written, digest) != digest:
        raise AssertionError("two downloads of the same archive computed different sha256")
    return written


def curl(job: dict[str, Any], fsync: bool = False) -> int:
    """Download a job's archive with ``curl -o``; return the bytes written (0 if curl failed)."""
    target = DEST / "curl.tar.gz"
    done = subprocess.run(["curl", "-sS", "-o", str(target), job["url"]], check=False, timeout=300)
    if fsync:
        with open(target, "rb+") as handle:
            os.fsync(handle.fileno())
    return target.stat().st_size if done.returncode == 0 else 0


@contextmanager
def diagnostic(no_fsync: bool = False, no_checks: bool = False) -> Iterator[None]:
    """
    Not proposals: switch off the final fsync and/or the sha256 and gzip checks, to see their cost.

    ``os.fsync`` is replaced process-wide for the block; ``StreamCheck`` then only counts bytes.
    """
    from airflow_provider_atlas_restore.download import checks as download_progress

    real_fsync = os.fsync
    check_class = download_progress.StreamCheck
    originals = {name: getattr(check_class, name) for name in ("count", "check_gzip", "finish")}

    def count_only(check: Any, data: bytes) -> None:
        check.bytes += len(data)

    if no_fsync:
        os.fsync = lambda fd: None
    if no_checks:
        check_class.count = count_only  # type: ignore[method-assign,assignment]
        check_class.check_gzip = lambda check, data: None  # type: ignore[method-assign,assignment]
        check_class.finish = lambda check, expected: None  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        os.fsync = real_fsync
        for name, original in originals.items():
            setattr(check_class, name, original)


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (curl)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _diagnosed(info: EmulatorInfo, job: dict[str, Any], **switches: bool) -> int:
    with diagnostic(**switches):
        return ours(info, job)


def throughput(info: EmulatorInfo, control: Control, size: int, runs: int, diagnose: bool) -> list[Row]:
    """Figure 6 for one archive size: ours, curl -o and curl -o + fsync, interleaved."""
    actions: dict[str, Callable[[dict[str, Any]], int]] = {
        "ours": lambda job: ours_checked(info, job),
        "curl": curl,
        "curl_fsync": lambda job: curl(job, fsync=True),
    }
    if diagnose:
        actions["diag_no_fsync"] = lambda job: _diagnosed(info, job, no_fsync=True)
        actions["diag_no_fsync_no_checks"] = lambda job: _diagnosed(info, job, no_fsync=True, no_checks=True)
    times: dict[str, list[float]] = {name: [] for name in actions}
    # CPU seconds per run: the client (this process and its children, i.e. curl) and the emulator.
    client_cpu: dict[str, list[float]] = {name: [] for name in actions}
    server_cpu: dict[str, list[float]] = {name: [] for name in actions}
    added: list[int] = []
    peaks: list[int] = []
    length = 0
    for index in range(runs + 1):
        for name, action in actions.items():
            job = control("download_job", size=size)
            length = job["length"]
            _clean()
            gc.collect()
            sampler = PeakRss()
            with sampler.running():
                server_before, client_before = control("cpu"), _cpu_seconds()
                started = time.perf_counter()
                written = action(job)
                seconds = time.perf_counter() - started
                client_spent, server_spent = _cpu_seconds() - client_before, control("cpu") - server_before
            if written != length:
                raise AssertionError(f"{name} wrote {written} bytes of {length}")
            if index:
                times[name].append(seconds)
                client_cpu[name].append(client_spent)
                server_cpu[name].append(server_spent)
                if name == "ours":
                    added.append(sampler.peak - sampler.before)
                    peaks.append(sampler.peak)
        _clean()
        log(
            f"  {size / GIB:.0f} GiB run {index + 1}/{runs + 1}: "
            + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items() if t)
        )
    speed = {name: length / median(values) / 1e6 for name, values in times.items()}
    per_gib = length / GIB
    cpu = {name: (median(client_cpu[name]) / per_gib, median(server_cpu[name]) / per_gib) for name in actions}
    log(
        "  CPU s per GiB (client, emulator): "
        + ", ".join(f"{n} {c:.2f}, {e:.2f}" for n, (c, e) in cpu.items())
    )
    log("  MB/s: " + ", ".join(f"{name} {value:.0f}" for name, value in speed.items()))
    peak, grown = max(peaks), max(added)
    gib = f"{size / GIB:.0f} GiB" if size >= GIB else f"{size / MIB:.0f} MiB"
    diagnostics = [
        Row(
            fig,
            f"diagnostic (not a proposal): fig. 6 at {gib} {label}",
            speed[name],
            "MB/s",
            speed["curl"],
            "`curl -o` (as above)",
            "n/a",
            None,
            runs=runs,
        )
        for fig, name, label in (
            ("6d", "diag_no_fsync", "without the final fsync"),
            ("6d'", "diag_no_fsync_no_checks", "without fsync, sha256 and gzip check"),
        )
        if name in speed
    ]
    return [
        *diagnostics,
        Row(
            "6",
            f"download throughput, {gib} (operator: API read, stream, sha256, gzip check, fsync)",
            speed["ours"],
            "MB/s",
            speed["curl"],
            "`curl -o` on the same kind of fresh link",
            ">= 0.9x curl",
            speed["ours"] >= 0.9 * speed["curl"],
            runs=runs,
            note=(
                f"curl -o then fsync: {speed['curl_fsync']:.0f} MB/s ({speed['ours'] / speed['curl_fsync']:.2f}x); "
                f"CPU s per GiB, client + emulator: ours {cpu['ours'][0]:.2f} + {cpu['ours'][1]:.2f}, "
                f"curl {cpu['curl'][0]:.2f} + {cpu['curl'][1]:.2f}"
            ),
            detail={"times": times, "length": length, "mb_per_s": speed, "cpu_s_per_gib": cpu},
        ),
        Row(
            "6m",
            f"download peak RSS, {gib}: whole process (added by the download)",
            peak / MIB,
            "MiB",
            None,
            "n/a",
            "<= 100 MB for the download itself",
            grown <= RSS_BUDGET,
            runs=runs,
            note=f"added {grown / MIB:.1f} MiB over {(peak - grown) / MIB:.0f} MiB before the download",
            detail={"peaks": peaks, "added": added},
        ),
    ]


def resumption(info: EmulatorInfo, control: Control, size: int, runs: int) -> Row:
    """Figure 7: body bytes the server sends twice when the connection drops at 90%."""
    twice: dict[str, list[int]] = {"ours": [], "curl_from_zero": []}
    length = 0
    for index in range(runs + 1):
        for name in twice:
            job = control("download_job", size=size)
            length = job["length"]
            _clean()
            control("reset")
            control("fault", route="download", kind="cut", after_bytes=int(0.9 * length), count=1)
            if name == "ours":
                written = ours(info, job, retry_initial_wait=0.1)
            else:
                curl(job)  # cut at 90%: curl reports a partial file and exits non-zero
                written = curl(job)  # again, from byte 0
            sent = control("stats")["download_body_bytes"]
            if written != length:
                raise AssertionError(f"{name} wrote {written} bytes of {length}")
            if index:
                twice[name].append(sent - length)
        log(
            f"  drop at 90% run {index + 1}/{runs + 1}: "
            + ", ".join(f"{n} {v[-1:]}" for n, v in twice.items())
        )
    _clean()
    ours_twice, base_twice = (
        median([float(v) for v in twice["ours"]]),
        median([float(v) for v in twice["curl_from_zero"]]),
    )
    return Row(
        "7",
        f"bytes sent twice after a drop at 90% ({size / MIB:.0f} MiB archive)",
        ours_twice,
        "bytes",
        base_twice,
        "re-download from zero (curl, run again)",
        "<= 10% of the baseline",
        ours_twice <= 0.10 * base_twice,
        runs=runs,
        note=f"ours resumes with Range: {ours_twice / length:.2%} of the file sent twice; baseline {base_twice / length:.0%}",
        detail={"twice": twice, "length": length},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default=f"{GIB},{2 * GIB}")
    parser.add_argument("--drop-size", type=int, default=256 * MIB)
    args = parser.parse_args()
    info = EmulatorInfo.from_env()
    control = Control(info)
    rows: list[Row] = []
    with environment(**connection_env(info)):
        import airflow_provider_atlas_restore.operators.download  # noqa: F401  (imported before measuring)

        for index, size in enumerate(int(s) for s in args.sizes.split(",")):
            log(f"figure 6: {size / GIB:.0f} GiB")
            rows += throughput(info, control, size, args.runs, diagnose=index == 0)
        log("figure 7: drop at 90%")
        rows.append(resumption(info, control, args.drop_size, args.runs))
    control.close()
    shutil.rmtree(DEST, ignore_errors=True)
    emit(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
