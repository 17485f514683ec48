"""
The snapshot watcher on the real components: one watcher run per new snapshot, none twice across a SIGKILL.

Before the download scenario, ``make test-e2e`` unpauses ``atlas_snapshot_watcher`` (an asset
watched by ``AtlasSnapshotEventTrigger``, looking every 2 s) and ``atlas_snapshot_consumer``
(scheduled on the watcher's destination folder's asset); the trigger takes its baseline while the
download scenario runs (and moves with it to triggerer-2 when triggerer-1 is killed). After it:

1. waits until the trigger has looked twice (its first look marks the seeded snapshots as old);
2. adds snapshots A and B on the emulator (SIGUSR1 to it), each followed by exactly one new
   watcher run;
3. kills the triggerer (SIGKILL to its process group), starts another, waits until that one has
   looked at the snapshots twice, and checks that no run was added;
4. adds snapshot C: exactly one more run;
5. waits for the three runs to succeed and checks that their triggering events name A, B and C,
   one each; that the consumer reported the three downloaded files, whose sha256 match the files
   in the folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
from pathlib import Path
from typing import Any

from airflow_env import start_triggerer
from emulator_process import Emulator
from example_dag import CONSUMER_DAG_ID, WATCHER_DAG_ID
from failure import E2EFailure
from run_context import Run

#: A listing of Cluster0's snapshots the emulator answered 200 (the watcher's trigger looking).
_LISTED = re.compile(r'"GET \S*/clusters/Cluster0/backup/snapshots\?\S* HTTP/1\.1" 200 ')
_ADDED = re.compile(r"^added snapshot ([0-9a-f]{24}) to Cluster0$", re.MULTILINE)


def _log(emulator: Emulator) -> str:
    return emulator.component.log_path.read_text(errors="replace")


def _looks(emulator: Emulator) -> int:
    return len(_LISTED.findall(_log(emulator)))


def _runs(run: Run, dag_id: str) -> list[dict[str, Any]]:
    body = run.api.get(f"/api/v2/dags/{dag_id}/dagRuns?order_by=logical_date&limit=100") or {}
    runs: list[dict[str, Any]] = body.get("dag_runs", [])
    return sorted(runs, key=lambda dag_run: str(dag_run.get("queued_at") or dag_run.get("run_after")))


def _wait_for_looks(run: Run, emulator: Emulator, count: int, who: str) -> None:
    target = _looks(emulator) + count
    run.wait_for(
        f"{who} to look at Cluster0's snapshots {count} more times",
        lambda: True if _looks(emulator) >= target else None,
        timeout=90,
        interval=0.2,
    )


def _add_snapshot(run: Run, emulator: Emulator) -> str:
    before = _ADDED.findall(_log(emulator))
    emulator.component.signal_group(signal.SIGUSR1)
    return str(
        run.wait_for(
            "the emulator to add a snapshot",
            lambda: (_ADDED.findall(_log(emulator))[len(before) :] or [None])[0],
            timeout=10,
            interval=0.1,
        )
    )


def _wait_for_run_count(run: Run, count: int, why: str) -> None:
    run.wait_for(
        f"{WATCHER_DAG_ID} to have {count} runs ({why})",
        lambda: True if len(_runs(run, WATCHER_DAG_ID)) >= count else None,
        timeout=60,
        interval=0.5,
    )
    runs = _runs(run, WATCHER_DAG_ID)
    if len(runs) != count:
        raise E2EFailure(f"expected {count} runs of {WATCHER_DAG_ID} ({why}), found {len(runs)}")


def _event_snapshot_ids(run: Run, dag_run: dict[str, Any]) -> list[str]:
    path = f"/api/v2/dags/{WATCHER_DAG_ID}/dagRuns/{dag_run['dag_run_id']}/upstreamAssetEvents"
    events = (run.api.get(path) or {}).get("asset_events", [])
    return [str((event.get("extra") or {}).get("payload", {}).get("snapshot_id")) for event in events]


def _wait_for_success(run: Run, dag_id: str, count: int) -> list[dict[str, Any]]:
    def all_done() -> list[dict[str, Any]] | None:
        runs = _runs(run, dag_id)
        failed = [dag_run["dag_run_id"] for dag_run in runs if dag_run["state"] == "failed"]
        if failed:
            raise E2EFailure(f"runs of {dag_id} failed: {failed}")
        done = [dag_run for dag_run in runs if dag_run["state"] == "success"]
        return runs if len(runs) >= count and len(done) == len(runs) else None

    result: list[dict[str, Any]] = run.wait_for(f"{count} runs of {dag_id} to succeed", all_done, timeout=180)
    return result


def _consumer_files(run: Run) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    for dag_run in _runs(run, CONSUMER_DAG_ID):
        path = f"/api/v2/dags/{CONSUMER_DAG_ID}/dagRuns/{dag_run['dag_run_id']}/taskInstances/report"
        entry = run.api.get(f"{path}/xcomEntries/return_value") if dag_run["state"] == "success" else None
        value = (entry or {}).get("value")
        files += json.loads(value) if isinstance(value, str) else value or []
    return files


def _check_files(run: Run, added: list[str]) -> str:
    def three_reported() -> list[dict[str, Any]] | None:
        files = _consumer_files(run)
        return files if len(files) >= len(added) else None

    files = run.wait_for(f"{CONSUMER_DAG_ID} to report {len(added)} files", three_reported, timeout=120)
    if sorted(str(entry["snapshot_id"]) for entry in files) != sorted(added):
        raise E2EFailure(
            f"{CONSUMER_DAG_ID} reported the snapshots {[f['snapshot_id'] for f in files]}, not {added}"
        )
    for entry in files:
        path = Path(entry["uri"].removeprefix("file://"))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if (
            path.parent != run.workdir.watched
            or digest != entry["sha256"]
            or path.stat().st_size != entry["bytes"]
        ):
            raise E2EFailure(f"the consumer's report of {entry['uri']} does not match the file")
    return f"{len(files)} files reported by {CONSUMER_DAG_ID}, each matching its sha256 and size"


def unpause_watcher(run: Run) -> None:
    """Unpause the consumer and the watcher DAG (through the REST API, once parsed): the watcher's trigger starts."""

    def unpaused(dag_id: str) -> bool | None:
        status, body = run.api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        if status not in (200, 404):
            raise E2EFailure(f"unpausing {dag_id} answered {status}: {body}")
        return True if status == 200 else None

    for dag_id in (CONSUMER_DAG_ID, WATCHER_DAG_ID):
        run.wait_for(
            f"{dag_id} to be parsed and unpaused", lambda dag_id=dag_id: unpaused(dag_id), timeout=120
        )
    run.steps.mark("watcher unpaused")
    run.steps.log(f"{WATCHER_DAG_ID} and {CONSUMER_DAG_ID} unpaused: the watcher's trigger starts")


def watch_snapshots(run: Run, emulator: Emulator) -> list[str]:
    """Run the watcher scenario on the running components (after :func:`unpause_watcher`); return its summary."""
    steps = run.steps
    steps.mark("watcher scenario")
    _wait_for_looks(run, emulator, 2, "the watcher's trigger")
    steps.log(f"the watcher's trigger looks at Cluster0's snapshots ({_looks(emulator)} looks so far)")
    if _runs(run, WATCHER_DAG_ID):
        raise E2EFailure(f"{WATCHER_DAG_ID} ran for the snapshots already there")
    added: list[str] = []
    for count in (1, 2):
        added.append(_add_snapshot(run, emulator))
        steps.mark(f"snapshot {count} added")
        _wait_for_run_count(run, count, f"snapshot {added[-1]} added")
        steps.mark(f"watcher run {count}")
        took = steps.between(f"snapshot {count} added", f"watcher run {count}")
        steps.log(f"snapshot {added[-1]} added -> watcher run {count} queued in {took:.1f} s")
    old = run.components.named("triggerer-2")
    old.kill()
    steps.mark("watcher triggerer killed")
    steps.log(f"triggerer-2 (process group {old.pgid}) killed with SIGKILL; starting triggerer-3")
    start_triggerer(run.components, "triggerer-3")
    _wait_for_looks(run, emulator, 2, "triggerer-3")
    steps.mark("watcher taken over")
    _wait_for_run_count(run, 2, "no duplicate after the restart")
    steps.log(
        f"triggerer-3 looked twice ({steps.between('watcher triggerer killed', 'watcher taken over'):.1f} s "
        "after the SIGKILL): still 2 watcher runs, no duplicate"
    )
    added.append(_add_snapshot(run, emulator))
    steps.mark("snapshot 3 added")
    _wait_for_run_count(run, 3, f"snapshot {added[-1]} added after the restart")
    runs = _wait_for_success(run, WATCHER_DAG_ID, 3)
    announced = [_event_snapshot_ids(run, dag_run) for dag_run in runs]
    if sorted(ids for each in announced for ids in each) != sorted(added) or any(
        len(ids) != 1 for ids in announced
    ):
        raise E2EFailure(f"the watcher runs' events name {announced}, expected one each of {added}")
    steps.mark("watcher runs succeeded")
    steps.log(f"verified 3 watcher runs, one per new snapshot, all succeeded: {announced}")
    steps.log(f"verified {_check_files(run, added)}")
    return [
        f"snapshot -> watcher run {steps.between('snapshot 1 added', 'watcher run 1'):.1f} s",
        f"watcher SIGKILL -> looking again {steps.between('watcher triggerer killed', 'watcher taken over'):.1f} s",
        f"watcher scenario {steps.between('watcher scenario', 'watcher runs succeeded'):.1f} s",
    ]
