"""
End-to-end test: the example pipeline DAG on Airflow's real components survives a triggerer crash.

``make test-e2e`` runs this script. It starts, in a throw-away ``AIRFLOW_HOME`` (SQLite metadata
database, LocalExecutor), Airflow's scheduler, dag-processor, triggerer and api-server, each in a
process group of its own, plus the bundled Atlas emulator (wall clock, seeded, a download that
becomes ready ``--ready-after`` seconds after the restore job is created). Then it:

1. triggers the DAG ``atlas_snapshot_download`` with ``destination`` set to a temp folder;
2. waits, through the api-server's REST API, until the task ``create_restore`` has started the
   restore and is deferred (create-and-wait), its trigger polling the job in the triggerer;
3. kills the triggerer's whole process group with SIGKILL (a crash: no clean shutdown, the trigger
   stays assigned to the dead triggerer) and starts a new triggerer;
4. waits until the new triggerer has taken the orphaned trigger over and the DAG run succeeds,
   every task at its first try (``create_restore`` resumed, it was not retried), with one restore
   job on the emulator: the one ``create_restore`` returned;
5. checks the downloaded archive against the ``download`` task's XCom (size, sha256) and that
   the ``.tar.gz`` reads to its end;
6. proves the snapshot watcher (``snapshot_watch``): one run of ``atlas_snapshot_watcher`` per
   snapshot added on the emulator, none for the old ones, none twice across a SIGKILLed triggerer.

Every component is stopped at the end, also on failure or interruption. The last line is
``e2e: 1 passed, 0 failed`` or ``e2e: 0 passed, 1 failed``; the exit status is 0 or 1.

This module is the scenario and its report; its siblings (imported as top-level modules, the
script's folder being first on ``sys.path``) hold the parts: ``processes`` (process groups, log
tails), ``timing`` (steps, time budget, waits), ``airflow_env`` (work folder, settings, CLI,
components), ``airflow_api`` (REST client), ``airflow_waits`` (waits on Airflow's state),
``emulator_process`` (the Atlas emulator), ``download_check`` (the archive), ``run_context`` (what
a run shares), ``example_dag``, ``loopback`` and ``failure``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

from airflow_env import airflow_env, create_api_password, start_airflow, start_triggerer
from airflow_waits import (
    check_task_instances,
    seconds_until_ready,
    wait_for_api,
    wait_for_dag,
    wait_for_deferral,
    wait_for_run,
    wait_for_takeover,
)
from download_check import check_download
from emulator_process import Emulator, start_emulator
from example_dag import CREATE_TASK, DAG_ID
from failure import E2EFailure
from processes import Component, print_tail
from run_context import Run, Settings
from snapshot_watch import unpause_watcher, watch_snapshots

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP reached the runner."""


# -- the scenario --------------------------------------------------------------------------------


def set_up(run: Run) -> Emulator:
    """Start the emulator and Airflow, and wait until the DAG is parsed."""
    steps = run.steps
    emulator = start_emulator(
        run.components,
        run.deadline,
        ready_after=run.settings.ready_after,
        download_size=run.settings.download_size,
    )
    steps.log(
        f"Atlas emulator on {emulator.url}: project {emulator.group_id}, "
        f"downloads ready {run.settings.ready_after:g} s after a restore starts"
    )
    run.components.env.update(airflow_env(run.workdir, run.api_port, emulator.connection_json()))
    password = create_api_password(run.workdir)
    steps.log("airflow db migrate (SQLite metadata database)")
    run.cli(["db", "migrate"], timeout=240)
    steps.mark("db migrated")
    steps.log("starting api-server, scheduler, dag-processor and triggerer-1 (LocalExecutor)")
    start_airflow(run.components, run.api_port)
    wait_for_api(run, password)
    steps.log(f"api-server answers on {run.api.base_url}")
    wait_for_dag(run)
    steps.mark("airflow up")
    return emulator


def trigger_dag(run: Run) -> None:
    """Unpause the DAG and trigger the run, downloading to the run's destination."""
    run.cli(["dags", "unpause", DAG_ID])
    conf = {"destination": str(run.destination)}
    run.cli(["dags", "trigger", DAG_ID, "--run-id", run.run_id, "--conf", json.dumps(conf)])


def deferred_job_id(emulator: Emulator) -> str:
    """The id of the one restore job read so far: the create task's look at the job it started, before it deferred."""
    created, read = emulator.count_jobs_created(), sorted(set(emulator.jobs_read()))
    if created != 1 or len(read) != 1:
        raise E2EFailure(
            f"expected one restore job started and read before the deferral: {created} created, read {read}"
        )
    return read[0]


def wait_for_trigger_poll(run: Run, emulator: Emulator) -> str:
    """Wait until the first triggerer runs the trigger: a GET of the job after the deferral."""
    job_id = deferred_job_id(emulator)
    before = emulator.count_job_polls(job_id)  # the create task's own look, before it deferred

    def polled() -> bool | None:
        return True if emulator.count_job_polls(job_id) > before else None

    run.wait_for(f"triggerer-1 to poll restore job {job_id}", polled, timeout=60, interval=0.2)
    return job_id


def crash_triggerer(run: Run, old: Component) -> Component:
    """SIGKILL the triggerer's whole process group and start a new triggerer."""
    old.kill()
    run.steps.mark("triggerer killed")
    run.steps.log(f"triggerer-1 (process group {old.pgid}) killed with SIGKILL; starting triggerer-2")
    return start_triggerer(run.components, "triggerer-2")


def defer_and_crash(run: Run, emulator: Emulator) -> None:
    """Trigger the DAG, wait for the deferred create task, SIGKILL the triggerer, wait for the takeover."""
    steps = run.steps
    steps.log(f"DAG {DAG_ID} parsed; unpausing and triggering run {run.run_id}")
    trigger_dag(run)
    steps.mark("triggered")
    crash_triggerer_while_deferred(run, emulator)


def crash_triggerer_while_deferred(run: Run, emulator: Emulator) -> str:
    """Wait for the deferred create task, SIGKILL ``triggerer-1``, start another, wait for its takeover.

    Marks the steps ``deferred``, ``triggerer killed`` and ``taken over`` (the run is ``triggered``);
    returns how the new triggerer took over.
    """
    steps = run.steps
    ti = wait_for_deferral(run)
    steps.mark("deferred")
    old_triggerer_id = int(ti["trigger"]["triggerer_id"])
    steps.log(
        f"{CREATE_TASK} started the restore and deferred {steps.between('triggered', 'deferred'):.1f} s after "
        "the trigger; "
        f"trigger {ti['trigger']['id']} assigned to triggerer job {old_triggerer_id}"
    )
    job_id = wait_for_trigger_poll(run, emulator)
    ready_in = seconds_until_ready(run)
    steps.log(
        f"triggerer-1 polls restore job {job_id}; its download is ready in {ready_in:.1f} s at the earliest"
    )
    if ready_in < 1.0:
        raise E2EFailure(
            "the download is (almost) ready already, so the killed triggerer might have fired the "
            f"trigger itself: give it more time (--ready-after, now {run.settings.ready_after:g} s)"
        )
    crash_triggerer(run, run.components.named("triggerer-1"))
    how = wait_for_takeover(run, old_triggerer_id)
    steps.mark("taken over")
    steps.log(f"takeover {steps.between('triggerer killed', 'taken over'):.1f} s after the SIGKILL: {how}")
    return how


def check_one_restore_job(run: Run, emulator: Emulator) -> str:
    """One restore job was started, and it is the one the resumed create task returned, links ready.

    :param run: the finished run.
    :param emulator: the emulator, whose request log counts the jobs.
    """
    created, read = emulator.count_jobs_created(), sorted(set(emulator.jobs_read()))
    result = run.api.xcom(run.run_id, CREATE_TASK)
    returned = (result.get("restore_job_id"), result.get("state"))
    if created != 1 or read != [returned[0]] or returned[1] != "ready":
        raise E2EFailure(
            f"expected one restore job, ready, returned by {CREATE_TASK}: {created} created, read {read}, "
            f"{CREATE_TASK} returned (id, state) {returned}"
        )
    polls = emulator.count_job_polls(str(returned[0]))
    return f"one restore job on the emulator: {returned[0]} ({polls} reads), the one {CREATE_TASK} returned ready"


def finish_and_verify(run: Run, emulator: Emulator) -> None:
    """Wait for the run's success; check every task, the one restore job and the downloaded archive."""
    wait_for_run(run)
    run.steps.mark("run succeeded")
    run.steps.log(f"DAG run {run.run_id} succeeded")
    check_task_instances(run)
    run.steps.log(f"verified every task succeeded at try 1: the deferred {CREATE_TASK} resumed, not retried")
    run.steps.log(f"verified {check_one_restore_job(run, emulator)}")
    for line in check_download(run):
        run.steps.log(f"verified {line}")


def scenario(run: Run) -> list[str]:
    """The test itself; returns the lines of its summary."""
    emulator = set_up(run)
    unpause_watcher(run)
    defer_and_crash(run, emulator)
    finish_and_verify(run, emulator)
    steps = run.steps
    summary = [
        f"Airflow up {steps.marks['airflow up']:.1f} s",
        f"trigger -> deferred {steps.between('triggered', 'deferred'):.1f} s",
        f"SIGKILL -> takeover {steps.between('triggerer killed', 'taken over'):.1f} s",
        f"takeover -> run success {steps.between('taken over', 'run succeeded'):.1f} s",
        f"trigger -> run success {steps.between('triggered', 'run succeeded'):.1f} s",
    ]
    return summary + watch_snapshots(run, emulator)


# -- reporting and teardown --------------------------------------------------------------------


def print_logs(run: Run) -> None:
    """The tails of every component log and of the run's task logs, to stderr."""
    for component in run.components.started:
        print_tail(component.log_path)
    task_logs = run.workdir.airflow_home / "logs" / f"dag_id={DAG_ID}"
    for log in sorted(task_logs.glob("**/*.log")) if task_logs.is_dir() else []:
        print_tail(log)
    sys.stderr.flush()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ready-after", type=float, default=30.0, help="seconds until the download is ready")
    parser.add_argument("--download-size", type=int, default=4 << 20, help="bytes of the snapshot archive")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds the whole run may take")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, also on success")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario, stop everything, and end with the ``e2e: N passed, M failed`` line."""
    args = _parser().parse_args(argv)
    settings = Settings(args.ready_after, args.download_size, args.budget, args.keep)
    run = Run.prepare(settings)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    run.steps.log(f"work folder {run.workdir.root}")
    summary: list[str] = []
    failure: str | None = None
    try:
        summary = scenario(run)
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
            print(f"e2e: FAILED: {failure}; the tails of the logs follow", file=sys.stderr, flush=True)
            print_logs(run)
        run.steps.log(f"stopping {len(run.components.started)} processes")
        try:
            killed = run.components.stop_all()
        except Exception as error:  # never leave without the final line
            failure = failure or f"stopping the processes failed: {error!r}"
            killed = []
        late = f" ({', '.join(killed)} killed after ignoring SIGTERM)" if killed else ""
        run.steps.log(f"all processes stopped{late}")
    return run.report("e2e", failure, summary, keep=settings.keep)


if __name__ == "__main__":
    sys.exit(main())
