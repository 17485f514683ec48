"""Fault 2 of the distributed run: SIGKILL the worker that downloads, mid-stream; the retry elsewhere."""

from __future__ import annotations

from distributed_airflow import TASK_HEARTBEAT_TIMEOUT, Worker, processes_of
from distributed_storage import BUCKET, S3, UploadInFlight, upload_in_flight
from example_dag import DOWNLOAD_TASK
from failure import E2EFailure
from run_context import Run


def wait_for_streaming(run: Run, workers: list[Worker], s3: S3) -> tuple[Worker, UploadInFlight]:
    """Wait until the download runs on a worker and S3 has parts of its unfinished upload.

    :param run: the run.
    :param workers: both workers.
    :param s3: the destination.
    """
    by_name = {worker.name: worker for worker in workers}

    def streaming() -> tuple[Worker, UploadInFlight] | None:
        ti = run.api.task_instance(run.run_id, DOWNLOAD_TASK) or {}
        if ti.get("state") == "success" or (ti.get("try_number") or 1) > 1:
            raise E2EFailure(
                f"{DOWNLOAD_TASK} is at (state, try) {(ti.get('state'), ti.get('try_number'))} before it "
                f"was seen streaming: give it more bytes (--download-size, now {run.settings.download_size})"
            )
        if ti.get("state") != "running" or ti.get("hostname") not in by_name:
            return None
        upload = upload_in_flight(s3)
        return (by_name[ti["hostname"]], upload) if upload else None

    return run.wait_for(f"{DOWNLOAD_TASK} to stream into S3", streaming, timeout=180, interval=0.1)


def kill_download_worker(run: Run, workers: list[Worker], s3: S3) -> tuple[Worker, Worker, UploadInFlight]:
    """SIGKILL the worker running the download, mid-stream; check nothing of it survives.

    Returns the killed worker, the other one and the upload the kill left unfinished.

    :param run: the run.
    :param workers: both workers.
    :param s3: the destination.
    """
    steps = run.steps
    worker, upload = wait_for_streaming(run, workers, s3)
    steps.mark("download streaming")
    component = run.components.named(worker.name)
    tree = [process.pid for process in component.descendants()]
    component.kill()
    steps.mark("worker killed")
    survivor = next(w for w in workers if w is not worker)
    size = run.settings.download_size
    steps.log(
        f"{worker.name} killed with SIGKILL (process group {component.pgid} and {len(tree)} descendants, the "
        f"task process's own group included) while s3://{BUCKET}/{upload.key} had {upload.parts} part(s), "
        f"{upload.part_bytes / (1 << 20):.0f} MiB of ~{size / (1 << 20):.0f} MiB; it stays down"
    )
    if survivors := processes_of(worker):
        raise E2EFailure(f"processes of {worker.name} survived the kill: {[p.pid for p in survivors]}")
    if upload.part_bytes >= size:
        raise E2EFailure(f"the upload had all {upload.part_bytes} bytes before the kill: not mid-stream")
    return worker, survivor, upload


def wait_for_retry(run: Run, survivor: Worker) -> None:
    """Wait until try 1 is failed for want of heartbeats and try 2 runs on the surviving worker.

    :param run: the run.
    :param survivor: the worker left running.
    """
    steps = run.steps

    def failed_first_try() -> str | None:
        ti = run.api.task_instance(run.run_id, DOWNLOAD_TASK) or {}
        if ti.get("state") == "up_for_retry" or (ti.get("try_number") or 1) >= 2:
            return str(ti.get("state"))
        return None

    state = run.wait_for("the scheduler to fail try 1 of the download", failed_first_try, timeout=120)
    steps.mark("try 1 failed")
    steps.log(
        f"try 1 failed {steps.between('worker killed', 'try 1 failed'):.1f} s after the kill "
        f"(heartbeat timeout {TASK_HEARTBEAT_TIMEOUT} s); the download is now {state}"
    )

    def retry_running() -> str | None:
        ti = run.api.task_instance(run.run_id, DOWNLOAD_TASK) or {}
        if ti.get("try_number") == 2 and ti.get("state") in ("running", "success"):
            return str(ti.get("hostname"))
        return None

    host = run.wait_for("try 2 of the download to run", retry_running, timeout=120, interval=0.2)
    steps.mark("retry running")
    steps.log(f"try 2 runs on {host} {steps.between('try 1 failed', 'retry running'):.1f} s later")
    if host != survivor.name:
        raise E2EFailure(f"try 2 runs on {host}, not on the surviving worker {survivor.name}")
