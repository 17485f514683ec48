"""
Distributed test: the example pipeline on PostgreSQL, Redis, two Celery workers and S3, through two crashes.

``make test-distributed`` runs this script (docs/testing.md, "The distributed test"). On 127.0.0.1
only it starts a private PostgreSQL cluster (the metadata database), Redis (the Celery broker),
moto's S3 server (the destination), the Atlas emulator, and Airflow's api-server, scheduler,
dag-processor, a triggerer and two Celery workers, each worker with its own ``HOME``, ``TMPDIR``,
working directory, ``AIRFLOW_HOME`` and host name. Then it:

1. triggers ``atlas_snapshot_download`` into ``s3://``; once its ``create_restore`` task has started
   the restore and is deferred (create-and-wait), SIGKILLs the triggerer and starts another, which
   must take the trigger over;
2. once the download streams (S3 lists parts of its unfinished upload), SIGKILLs the worker running
   it, the task's own process group included; that worker stays down;
3. waits for the heartbeat timeout to fail try 1, for try 2 on the other worker and the run's
   success; lets the broker redeliver try 1's unacknowledged message, which Airflow must refuse;
4. proves the tries and their hosts (``create_restore`` resumed at its first try), one restore job
   on the emulator, each attempt's log on its own worker (the second aborting the upload the first
   left), the bucket (one whole object per file, sha256 == XCom == tag, nothing else), and a
   secret scan of ``pg_dump``, the Redis keyspace and the logs.

Everything it started is stopped by process id, also on failure or interruption. The last line
is ``distributed: 1 passed, 0 failed`` or ``distributed: 0 passed, 1 failed``; exit status 0 or 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlsplit

from airflow_env import create_api_password, start_airflow
from airflow_waits import wait_for_api, wait_for_dag, wait_for_run
from distributed_airflow import (
    ATLAS_CONN_ID,
    BROKER_VISIBILITY_TIMEOUT,
    S3_CONN_ID,
    TASK_RETRIES,
    Worker,
    connections_file_text,
    distributed_env,
    make_workers,
    private_file,
    start_worker,
    worker_ready,
)
from distributed_broker import message_of_try, redeliver_when_expired, taken_messages, wait_for_redelivery
from distributed_faults import kill_download_worker, wait_for_retry
from distributed_proof import (
    check_first_try_tasks,
    check_heartbeat_timeout_event,
    check_one_transfer_a_try,
    check_task_logs,
    check_tries,
)
from distributed_secrets import Sentinels, link_tokens, scan_for_secrets
from distributed_services import Postgres, Redis, server_user, start_postgres, start_redis
from distributed_storage import BUCKET, S3, UploadInFlight, check_bucket, start_s3
from emulator_process import EMULATOR_PRIVATE_KEY, Emulator, start_emulator
from example_dag import CREATE_TASK, DAG_ID, DOWNLOAD_TASK, REPORT_TASK
from failure import E2EFailure
from processes import print_tail
from run_context import Run, Settings
from run_e2e import check_one_restore_job, crash_triggerer_while_deferred

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SERVICES = ("postgres", "redis")
CLUSTER = "Cluster0"  # the example DAG's default cluster_name param


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP reached the runner."""


@dataclass(frozen=True)
class Services:
    """What Airflow relies on: the metadata database, the broker, the storage and Atlas."""

    postgres: Postgres
    redis: Redis
    s3: S3
    emulator: Emulator


@dataclass
class Deployment:
    """The run and what it has started so far, for the scenario and for the teardown."""

    run: Run
    folders: list[Path] = field(default_factory=list)  # the servers' own, outside the work folder
    s3: S3 | None = None  # not one of the components: stopped by its own pid
    workers: list[Worker] = field(default_factory=list)


# -- set-up ----------------------------------------------------------------------------------------


def start_services(deployment: Deployment) -> Services:
    """Start PostgreSQL, Redis, S3 and the Atlas emulator.

    :param deployment: the run so far.
    """
    run, steps = deployment.run, deployment.run.steps
    user = server_user()
    postgres = start_postgres(run.components, run.deadline, user)
    deployment.folders.append(postgres.root)
    steps.log(f"PostgreSQL on 127.0.0.1:{postgres.port} (cluster {postgres.root}, user {user or 'self'})")
    redis = start_redis(run.components, run.deadline, user)
    deployment.folders.append(redis.root)
    steps.log(f"Redis on 127.0.0.1:{redis.port} (no persistence, user {user or 'self'})")
    s3 = deployment.s3 = start_s3(run.workdir.logs)
    steps.log(f"S3 (moto) on {s3.server.endpoint_url}, bucket {s3.destination}")
    emulator = start_emulator(
        run.components,
        run.deadline,
        ready_after=run.settings.ready_after,
        download_size=run.settings.download_size,
        service_account=True,
    )
    steps.log(
        f"Atlas emulator on {emulator.url}: a {run.settings.download_size / (1 << 20):g} MiB "
        f"snapshot, downloads ready {run.settings.ready_after:g} s after a restore starts"
    )
    steps.mark("services up")
    return Services(postgres, redis, s3, emulator)


def start_cluster(deployment: Deployment, services: Services) -> None:
    """Migrate the database, store the connections, start Airflow and both workers.

    :param deployment: the run so far.
    :param services: the started services.
    """
    run, steps = deployment.run, deployment.run.steps
    run.components.env.update(distributed_env(run.workdir, run.api_port, services.postgres, services.redis))
    password = create_api_password(run.workdir)
    steps.log("airflow db migrate (PostgreSQL)")
    run.cli(["db", "migrate"], timeout=240)
    steps.mark("db migrated")
    text = connections_file_text(
        str(services.emulator.service_account_uri),
        json.loads(services.emulator.connection_json()),
        services.s3.server.connection(services.s3.credentials),
    )
    with private_file(run.workdir.root / "connections.json", text) as path:
        run.cli(["connections", "import", str(path)])
    steps.log(
        f"connections {ATLAS_CONN_ID} (service account), key pair and {S3_CONN_ID} stored in the database"
    )
    deployment.workers = make_workers(run.workdir)
    steps.log("starting api-server, scheduler, dag-processor, triggerer-1 and two Celery workers")
    start_airflow(run.components, run.api_port)
    for worker in deployment.workers:
        start_worker(run.components, worker)
    wait_for_api(run, password)
    wait_for_dag(run)
    for worker in deployment.workers:
        component = run.components.named(worker.name)
        run.wait_for(f"{worker.name} to consume", lambda c=component: True if worker_ready(c) else None, 120)
    task = run.api.get(f"/api/v2/dags/{DAG_ID}/tasks/{DOWNLOAD_TASK}") or {}
    if task.get("retries") != TASK_RETRIES:
        raise E2EFailure(f"{DOWNLOAD_TASK} has retries={task.get('retries')}, not {TASK_RETRIES}")
    steps.mark("airflow up")
    steps.log(f"Airflow up; workers {', '.join(w.name for w in deployment.workers)} consume queue default")


def trigger_run(run: Run, s3: S3) -> None:
    """Unpause the DAG and trigger the run into S3, through the REST API.

    :param run: the run.
    :param s3: the destination.
    """
    conf = {"destination": s3.destination, "destination_conn_id": S3_CONN_ID}
    for method, path, body in (
        ("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False}),
        (
            "POST",
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            {"dag_run_id": run.run_id, "logical_date": None, "conf": conf},
        ),
    ):
        status, answer = run.api.call(method, path, body)
        if status not in (200, 201):
            raise E2EFailure(f"{method} {path} answered {status}: {answer}")
    run.steps.mark("triggered")
    run.steps.log(f"triggered run {run.run_id}: destination {conf['destination']}")


# -- the scenario ------------------------------------------------------------------------------


def scenario(deployment: Deployment) -> list[str]:
    """The test itself; returns the lines of its summary.

    :param deployment: the run, nothing started yet.
    """
    run, steps = deployment.run, deployment.run.steps
    services = start_services(deployment)
    start_cluster(deployment, services)
    trigger_run(run, services.s3)
    takeover = crash_triggerer_while_deferred(run, services.emulator)
    deferred_host = (run.api.task_instance(run.run_id, CREATE_TASK) or {}).get("hostname")
    killed, survivor, upload = kill_download_worker(run, deployment.workers, services.s3)
    taken = message_of_try(services.redis, DOWNLOAD_TASK, 1)
    steps.log(f"Redis holds try 1's message {taken.celery_id} unacknowledged (task instance {taken.ti_id})")
    wait_for_retry(run, survivor)
    wait_for_run(run)
    steps.mark("run succeeded")
    steps.log(f"DAG run {run.run_id} succeeded")
    redeliver_when_expired(run, services.redis, taken, BROKER_VISIBILITY_TIMEOUT)
    refusal = wait_for_redelivery(run, survivor, taken, timeout=60)
    steps.mark("redelivered")
    steps.log(f"try 1's message came back to {survivor.name} after the visibility timeout; {refusal}")
    resumed_host = (run.api.task_instance(run.run_id, CREATE_TASK) or {}).get("hostname")
    proof = [
        f"triggerer takeover: {takeover}; {CREATE_TASK} deferred on {deferred_host} and resumed on {resumed_host}",
        f"try 1's unacknowledged message, redelivered to {survivor.name}: {refusal}",
        *prove(deployment, services, killed, survivor, upload),
    ]
    steps.mark("verified")
    for line in proof:
        steps.log(f"verified {line}")
    return [
        f"services {steps.marks['services up']:.1f} s",
        f"Airflow up {steps.marks['airflow up']:.1f} s",
        f"trigger -> deferred {steps.between('triggered', 'deferred'):.1f} s",
        f"triggerer SIGKILL -> takeover {steps.between('triggerer killed', 'taken over'):.1f} s",
        f"takeover -> download streaming {steps.between('taken over', 'download streaming'):.1f} s",
        f"worker SIGKILL -> try 1 failed {steps.between('worker killed', 'try 1 failed'):.1f} s",
        f"try 1 failed -> try 2 running {steps.between('try 1 failed', 'retry running'):.1f} s",
        f"try 2 running -> run success {steps.between('retry running', 'run succeeded'):.1f} s",
        f"run success -> try 1 redelivered {steps.between('run succeeded', 'redelivered'):.1f} s",
        f"checks {steps.between('redelivered', 'verified'):.1f} s",
    ]


def prove(
    deployment: Deployment, services: Services, killed: Worker, survivor: Worker, upload: UploadInFlight
) -> list[str]:
    """Every check of the finished run; returns one line per fact proven.

    :param deployment: the finished run.
    :param services: the services.
    :param killed: the worker killed mid-download.
    :param survivor: the other worker.
    :param upload: the upload the kill left unfinished.
    """
    run = deployment.run
    check_first_try_tasks(run)
    lines = [f"{CREATE_TASK} (deferred, resumed), {REPORT_TASK}: success at try 1"]
    lines.append(check_one_restore_job(run, services.emulator))
    lines += check_tries(run, killed, survivor)
    lines.append(check_heartbeat_timeout_event(run))
    uri = f"s3://{BUCKET}/{upload.key}"
    lines += check_task_logs(run, killed, survivor, uri)
    moto_log = services.s3.server.log_path
    lines.append(
        check_one_transfer_a_try(services.emulator.component.log_path, moto_log, f"{BUCKET}/{upload.key}")
    )
    job = run.api.xcom(run.run_id, CREATE_TASK)
    wanted = {
        "atlas-restore-job-id": str(job["restore_job_id"]),
        "atlas-snapshot-id": str(job["snapshot_id"]),
        "atlas-cluster": CLUSTER,
    }
    lines += check_bucket(services.s3, run.api.xcom(run.run_id, DOWNLOAD_TASK), wanted)
    if unacked := taken_messages(services.redis):
        raise E2EFailure(f"messages still unacknowledged in Redis at the end: {unacked}")
    dag_run = run.api.dag_run(run.run_id) or {}
    if dag_run.get("state") != "success":
        raise E2EFailure(f"DAG run {run.run_id} is {dag_run.get('state')} after the redelivery")
    sentinels = Sentinels(
        {
            "the key pair's private key": EMULATOR_PRIVATE_KEY,
            "the client secret": _client_secret(str(services.emulator.service_account_uri)),
            "the S3 secret key": services.s3.credentials.secret_access_key,
        },
        link_tokens(services.emulator.component.log_path),
    )
    shared_logs = [run.workdir.logs, run.workdir.airflow_home / "logs"]  # components; dag-processor
    log_folders = [*shared_logs, *[worker.task_logs for worker in deployment.workers]]
    lines += scan_for_secrets(services.postgres, services.redis, sentinels, log_folders, {"emulator.log"})
    return lines


def _client_secret(uri: str) -> str:
    return unquote(urlsplit(uri).password or "")


# -- reporting and teardown ----------------------------------------------------------------------


def print_logs(deployment: Deployment) -> None:
    """The tails of every component log and of every task log, to stderr.

    :param deployment: the run.
    """
    run = deployment.run
    for component in run.components.started:
        print_tail(component.log_path)
    if deployment.s3:
        print_tail(deployment.s3.server.log_path)
    for folder in [worker.task_logs / f"dag_id={DAG_ID}" for worker in deployment.workers]:
        for log in sorted(folder.glob("**/*.log")) if folder.is_dir() else []:
            print_tail(log)
    sys.stderr.flush()


def stop_everything(deployment: Deployment) -> list[str]:
    """Stop Airflow and the emulator, then PostgreSQL and Redis, then S3; remove the servers' folders.

    :param deployment: the run.
    """
    components = deployment.run.components
    names = [c.name for c in components.started if c.name not in SERVICES]
    killed = components.stop_all(only=names)
    killed += components.stop_all()
    if deployment.s3:
        deployment.s3.server.stop(remove_logs=False)
    for folder in deployment.folders:
        shutil.rmtree(folder, ignore_errors=True)
    return killed


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ready-after", type=float, default=50.0, help="seconds until the download is ready")
    parser.add_argument("--download-size", type=int, default=384 << 20, help="bytes of the snapshot archive")
    parser.add_argument("--budget", type=float, default=330.0, help="seconds the whole run may take")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, also on success")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario, stop everything, and end with the ``distributed: N passed, M failed`` line.

    :param argv: the command line's arguments.
    """
    args = _parser().parse_args(argv)
    settings = Settings(args.ready_after, args.download_size, args.budget, args.keep)
    prepared = Run.prepare(settings, prefix="atlas-distributed-")
    run = dataclasses.replace(prepared, run_id=f"distributed__{time.strftime('%Y%m%dT%H%M%S')}")
    deployment = Deployment(run)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    run.steps.log(f"work folder {run.workdir.root}")
    summary: list[str] = []
    failure: str | None = None
    try:
        summary = scenario(deployment)
    except E2EFailure as error:
        failure = str(error)
    except Interrupted as error:
        failure = f"interrupted by {error}"
    except Exception as error:  # a bug here, or something unforeseen: still stop everything
        traceback.print_exc()
        failure = f"unexpected error: {error!r}"
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        if failure is not None:
            print(
                f"distributed: FAILED: {failure}; the tails of the logs follow", file=sys.stderr, flush=True
            )
            print_logs(deployment)
        run.steps.log(f"stopping {len(run.components.started) + bool(deployment.s3)} processes")
        try:
            killed = stop_everything(deployment)
        except Exception as error:  # never leave without the final line
            failure = failure or f"stopping the processes failed: {error!r}"
            killed = []
        late = f" ({', '.join(killed)} killed after ignoring SIGTERM)" if killed else ""
        run.steps.log(f"all processes stopped{late}")
    return run.report("distributed", failure, summary, keep=settings.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
