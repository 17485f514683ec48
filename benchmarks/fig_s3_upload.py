"""
Figure 8: a 1 GiB snapshot from the emulator into an S3 server, beside boto3's ``upload_fileobj``.

The S3 server is moto's standalone server (``python -m moto.server``), a subprocess of this
module on a free loopback port, started and stopped by its pid. Every run, ours or the
baseline's, gets a fresh ready job (links are single-use). Ours is
``AtlasDownloadSnapshotOperator.execute`` with an ``s3://`` destination and an ``aws``
connection whose ``endpoint_url`` is the server: only the operator's public interface, so it
measures whichever upload code is installed. The baseline streams the same kind of link with
``requests`` and hands ``response.raw`` to ``boto3``'s ``upload_fileobj`` (default
``TransferConfig``). After each run, outside the clock, the bucket must hold exactly the one
object, whole, with no unfinished multipart upload; then it is emptied.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

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
from benchmarks.fig_download import PeakRss

GIB = 1 << 30
MIB = 1 << 20
BUCKET = "atlas-bench"
PREFIX = "restores/"
S3_CONN_ID = "s3_bench"
RSS_BUDGET = 150 * MIB
#: moto logs one line per request: they go here, not to a pipe nobody reads.
MOTO_LOG = WORK / "moto.log"
#: Seconds moto's server may take to answer its first request.
MOTO_START_TIMEOUT = 60.0
#: Bytes read at a time by the baseline's own hashing and the download-only measurement.
READ_SIZE = 8 * MIB


class MotoServer:
    """moto's standalone S3 server in a subprocess on a free 127.0.0.1 port, stopped by its pid."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(MOTO_LOG, "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import requests

        deadline = time.monotonic() + MOTO_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto's server exited ({self.process.returncode}); see {MOTO_LOG}")
            try:
                requests.get(f"{self.endpoint}/moto-api/", timeout=1.0)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto's server did not answer within {MOTO_START_TIMEOUT:.0f} s; see {MOTO_LOG}")

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used so far."""
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """Send SIGTERM to the server's pid and wait; SIGKILL it only if it does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def aws_env(endpoint: str) -> dict[str, str]:
    """Return our ``aws`` connection, and settings that keep botocore off any address but the server."""
    connection = {
        "conn_type": "aws",
        "login": "test",
        "password": "test",
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    no_file = str(WORK / "no-aws-config")  # no profile of this machine's user is read
    return {
        f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": json.dumps(connection),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": no_file,
        "AWS_SHARED_CREDENTIALS_FILE": no_file,
    }


def s3_client(endpoint: str) -> Any:
    """Return a boto3 S3 client for the server (boto3's defaults otherwise)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


def bucket_state(client: Any) -> tuple[dict[str, int], int]:
    """Return the bucket's objects (key to size) and how many multipart uploads are unfinished."""
    objects: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        objects.update({item["Key"]: int(item["Size"]) for item in page.get("Contents", [])})
    uploads = client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    return objects, len(uploads)


def empty_bucket(client: Any) -> None:
    """Delete every object and abort every unfinished multipart upload (outside timed regions)."""
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    objects, _ = bucket_state(client)
    for key in objects:
        client.delete_object(Bucket=BUCKET, Key=key)


def object_sha256(client: Any, key: str) -> str:
    """Read an object back from the server and return its sha256 (outside timed regions)."""
    digest = hashlib.sha256()
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
    for chunk in iter(lambda: body.read(READ_SIZE), b""):
        digest.update(chunk)
    return digest.hexdigest()


def ours(info: EmulatorInfo, job: dict[str, Any]) -> tuple[str, int, str]:
    """Download a job's archive into ``s3://BUCKET/PREFIX`` with our operator; return key, bytes, sha256."""
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

    operator = AtlasDownloadSnapshotOperator(
        task_id="download_snapshot_to_s3",
        restore_job_id=job["job_id"],
        cluster_name=info.download_cluster,
        atlas_conn_id=ATLAS_CONN_ID,
        destination=f"s3://{BUCKET}/{PREFIX}",
        destination_conn_id=S3_CONN_ID,
        allow_http=True,
        progress_interval=60.0,
    )
    (result,) = operator.execute({})
    # s3://bucket/key, or ObjectStoragePath's s3://conn_id@bucket/key: the key is the path either way.
    where = urlsplit(str(result["path"]))
    if where.scheme != "s3" or where.hostname != BUCKET:
        raise AssertionError(f"our operator reports {result['path']!r}, not an object in s3://{BUCKET}/")
    return where.path.lstrip("/"), int(result["bytes"]), str(result["sha256"])


def boto3_upload(endpoint: str, job: dict[str, Any]) -> tuple[str, int, str]:
    """Stream a job's archive with ``requests`` into ``upload_fileobj`` (default transfer settings)."""
    import requests

    key = f"{PREFIX}boto3-{job['job_id']}.tar.gz"
    with requests.get(job["url"], stream=True, timeout=60) as response:
        response.raise_for_status()
        s3_client(endpoint).upload_fileobj(response.raw, BUCKET, key)
    return key, job["length"], ""


def _release_freed_memory() -> None:
    """Hand memory freed by earlier runs back to the system, so each run's RSS growth is its own."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _client_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def capacity(endpoint: str, control: Control, size: int) -> dict[str, float]:
    """What bounds the figure: the S3 server alone (bodies in memory) and the download alone (MB/s)."""
    client = s3_client(endpoint)
    body = os.urandom(64 * MIB)
    puts = []
    for _ in range(3):
        started = time.perf_counter()
        client.put_object(Bucket=BUCKET, Key="capacity/put", Body=body)
        puts.append(time.perf_counter() - started)
    started = time.perf_counter()
    client.upload_fileobj(io.BytesIO(body * 4), BUCKET, "capacity/upload_fileobj")
    multipart = time.perf_counter() - started
    del body
    empty_bucket(client)
    import requests

    job = control("download_job", size=size)
    started = time.perf_counter()
    with requests.get(job["url"], stream=True, timeout=60) as response:
        response.raise_for_status()
        received = sum(len(chunk) for chunk in iter(lambda: response.raw.read(READ_SIZE), b""))
    download = time.perf_counter() - started
    if received != job["length"]:
        raise AssertionError(f"download-only read {received} bytes of {job['length']}")
    return {
        "moto_put_64mib_mb_per_s": 64 * MIB / median(puts) / 1e6,
        "moto_upload_fileobj_256mib_from_memory_mb_per_s": 256 * MIB / multipart / 1e6,
        "emulator_to_requests_discarded_mb_per_s": received / download / 1e6,
    }


def throughput(
    info: EmulatorInfo, control: Control, moto: MotoServer, size: int, runs: int
) -> tuple[list[Row], dict[str, Any]]:
    """Figure 8: ours and boto3's ``upload_fileobj``, interleaved, each on a fresh job."""
    client = s3_client(moto.endpoint)
    actions: dict[str, Callable[[dict[str, Any]], tuple[str, int, str]]] = {
        "ours": lambda job: ours(info, job),
        "boto3": lambda job: boto3_upload(moto.endpoint, job),
    }
    times: dict[str, list[float]] = {name: [] for name in actions}
    added: dict[str, list[int]] = {name: [] for name in actions}
    cpu: dict[str, list[tuple[float, float, float]]] = {name: [] for name in actions}
    first_added: dict[str, int] = {}
    digests: dict[str, str] = {}
    length = 0
    for index in range(runs + 1):
        for name, action in actions.items():
            job = control("download_job", size=size)
            length = job["length"]
            empty_bucket(client)
            _release_freed_memory()
            sampler = PeakRss()
            with sampler.running():
                before = (_client_cpu_seconds(), control("cpu"), moto.cpu_seconds())
                started = time.perf_counter()
                key, written, digest = action(job)
                seconds = time.perf_counter() - started
                after = (_client_cpu_seconds(), control("cpu"), moto.cpu_seconds())
            objects, unfinished = bucket_state(client)
            if written != length or objects != {key: length} or unfinished:
                raise AssertionError(
                    f"{name}: wrote {written} of {length} bytes; bucket holds {objects}, "
                    f"{unfinished} unfinished multipart uploads (expected only {key})"
                )
            if index == 0:  # the warm-up: prove both stored the same bytes as ours hashed
                first_added[name] = sampler.peak - sampler.before
                digests[name] = object_sha256(client, key)
                if name == "ours" and digest != digests[name]:
                    raise AssertionError("the object's sha256 differs from the one our operator returned")
            else:
                times[name].append(seconds)
                added[name].append(sampler.peak - sampler.before)
                cpu[name].append((after[0] - before[0], after[1] - before[1], after[2] - before[2]))
        empty_bucket(client)
        log(
            f"  {size / GIB:.0f} GiB run {index + 1}/{runs + 1}: "
            + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items() if t)
        )
    if len(set(digests.values())) != 1:
        raise AssertionError(f"ours and boto3 stored different bytes: {digests}")
    speed = {name: length / median(values) / 1e6 for name, values in times.items()}
    per_gib = length / GIB
    cpu_per_gib = {
        name: tuple(median([sample[part] for sample in samples]) / per_gib for part in range(3))
        for name, samples in cpu.items()
    }
    log("  MB/s: " + ", ".join(f"{name} {value:.0f}" for name, value in speed.items()))
    log(
        "  CPU s per GiB (client, emulator, moto): "
        + ", ".join(f"{n} {c:.2f}, {e:.2f}, {m:.2f}" for n, (c, e, m) in cpu_per_gib.items())
    )
    grown = {name: max(values) for name, values in added.items()}
    cpu_note = "; ".join(f"{name} {c:.2f} + {e:.2f} + {m:.2f}" for name, (c, e, m) in cpu_per_gib.items())
    gib = f"{size / GIB:.0f} GiB" if size >= GIB else f"{size / MIB:.0f} MiB"
    rows = [
        Row(
            "8",
            f"snapshot into S3 (moto server), {gib}: operator, fresh link to an `s3://` folder",
            speed["ours"],
            "MB/s",
            speed["boto3"],
            "`requests` stream of the same kind of link into boto3 `upload_fileobj`, default transfer settings",
            ">= 0.9x boto3",
            speed["ours"] >= 0.9 * speed["boto3"],
            runs=runs,
            note=f"CPU s per GiB, client + emulator + moto: {cpu_note}",
            detail={"times": times, "length": length, "mb_per_s": speed, "cpu_s_per_gib": cpu_per_gib},
        ),
        Row(
            "8m",
            f"snapshot into S3, {gib}: peak RSS added by the upload (largest of the timed runs)",
            grown["ours"] / MIB,
            "MiB",
            grown["boto3"] / MIB,
            "boto3 `upload_fileobj`, as above",
            "< 150 MiB added",
            grown["ours"] < RSS_BUDGET,
            runs=runs,
            note=(
                "warm-up run (first in this process): "
                + ", ".join(f"{name} {value / MIB:.0f} MiB" for name, value in first_added.items())
            ),
            detail={"added": added, "warm_up_added": first_added},
        ),
    ]
    return rows, {"sha256": digests["ours"]}


def bound_rows(bounds: dict[str, float], size: int) -> list[Row]:
    """Rows for what bounds figure 8 (not ours, no goal): moto alone and the download alone."""
    rows = [
        ("8b", "moto alone: one 64 MiB `put_object` from memory, median of 3", "moto_put_64mib_mb_per_s"),
        (
            "8b'",
            "moto alone: one 256 MiB boto3 `upload_fileobj` from memory, default transfer settings",
            "moto_upload_fileobj_256mib_from_memory_mb_per_s",
        ),
        (
            "8c",
            f"download alone: `requests` stream of a fresh {size / GIB:.0f} GiB link, bytes discarded",
            "emulator_to_requests_discarded_mb_per_s",
        ),
    ]
    return [
        Row(fig, f"what bounds fig. 8 (not ours): {label}", bounds[name], "MB/s", None, "n/a", "n/a", None)
        for fig, label, name in rows
    ]


def _require_s3_packages() -> None:
    """Stop with a clear message when ``.venv-bench`` predates this figure's packages."""
    import importlib.util

    names = ("moto", "s3fs", "boto3", "airflow.providers.amazon")
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"fig_s3_upload needs {', '.join(missing)}: rebuild the bench virtualenv "
            "(rm -rf .venv-bench && make install-bench)."
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=GIB)
    args = parser.parse_args()
    _require_s3_packages()
    info = EmulatorInfo.from_env()
    control = Control(info)
    WORK.mkdir(exist_ok=True)
    moto = MotoServer()
    try:
        with environment(**connection_env(info), **aws_env(moto.endpoint)):
            # Imported before measuring, as on a worker that has run a task before.
            import airflow.providers.amazon.aws.fs.s3  # noqa: F401
            import requests  # noqa: F401
            import s3fs  # noqa: F401

            import airflow_provider_atlas_restore.operators.download  # noqa: F401

            s3_client(moto.endpoint).create_bucket(Bucket=BUCKET)
            log("figure 8: what bounds it (moto alone, download alone)")
            bounds = capacity(moto.endpoint, control, args.size)
            log("  " + ", ".join(f"{name} {value:.0f}" for name, value in bounds.items()))
            log(f"figure 8: {args.size / GIB:.0f} GiB into S3")
            rows, extra = throughput(info, control, moto, args.size, args.runs)
            rows += bound_rows(bounds, args.size)
    finally:
        moto.stop()
        control.close()
    emit(rows, {**extra, "bounds": bounds})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
