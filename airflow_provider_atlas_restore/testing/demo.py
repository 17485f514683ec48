"""
``make demo``: run the example pipeline DAG with Airflow against the bundled Atlas emulator.

``make demo DEMO=export`` (``--example export``) runs ``example_dags/atlas_snapshot_export.py``
instead: an on-demand snapshot, its export into the seeded export bucket, the export's URI, and
the snapshot's deletion.

``make demo DEMO=flex`` (``--example flex``) runs its flex variant, ``example_dags/atlas_flex_snapshot_download.py``,
on flex clusters ``Flex0`` (restored from) and ``Flex1`` (overwritten).

Starts the emulator on a free loopback port, makes a throw-away ``AIRFLOW_HOME``, points the
``mongodb_atlas_default`` connection at the emulator, runs ``example_dags/atlas_snapshot_download.py``
with ``dag.test()`` (the create task starts the restore and defers until its links are ready;
Airflow runs its trigger in the same process), prints
what happened, and stops the emulator. The throw-away folder (Airflow home and the downloaded
snapshot) is removed at the end and its path printed; ``--keep`` keeps it, and a folder given
with ``--workdir`` is always kept. Exits 0 when the DAG run succeeded.

It lives in the package, not in ``e2e/`` or ``benchmarks/``, because it is public: ``make demo``
runs it as ``python -m airflow_provider_atlas_restore.testing.demo``, and so can a user with
an installed copy (``--dags-folder``), where no ``e2e/`` or ``benchmarks/`` exists.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import DEMO_EXPORT_BUCKET, seed_demo

DAG_ID = "atlas_snapshot_download"
TASK_ORDER = ("create_restore", "download", "report")
#: The export example (``--example export``): its DAG and tasks.
EXPORT_DAG_ID = "atlas_snapshot_export"
EXPORT_TASK_ORDER = ("take_snapshot", "export", "report", "delete_snapshot")
#: ``--example flex``: the flex variant of the pipeline, restoring flex cluster Flex0 onto Flex1.
FLEX_DAG_ID = "atlas_flex_snapshot_download"
FLEX_TASK_ORDER = ("restore_flex", "download", "report")
FLEX_TARGET = "Flex1"
#: Each example the demo runs, by the name ``make demo DEMO=<name>`` gives, and its DAG.
EXAMPLES = {"download": DAG_ID, "export": EXPORT_DAG_ID, "flex": FLEX_DAG_ID}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_atlas_restore.testing.demo")
    parser.add_argument("--dags-folder", type=Path, default=Path("example_dags"), help="the example DAGs")
    parser.add_argument(
        "--example",
        choices=sorted(EXAMPLES),
        default="download",
        help="which example DAG to run (make demo DEMO=...): download (default), export or flex",
    )
    parser.add_argument("--ready-after", type=float, default=6.0, help="seconds until the download is ready")
    parser.add_argument("--download-size", type=int, default=8 << 20, help="bytes of the snapshot archive")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where AIRFLOW_HOME and the files go (kept)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary Airflow home and snapshot (removed by default)",
    )
    return parser


def _configure_airflow(home: Path, dags_folder: Path, connection: dict[str, Any]) -> None:
    """Set the environment Airflow reads when it is first imported."""
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT": json.dumps(connection),
        }
    )


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and return its exit status.

    :param argv: arguments (default ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    dags_folder = args.dags_folder.resolve()
    dag_id = EXAMPLES[args.example]
    if not (dags_folder / f"{dag_id}.py").is_file():
        print(
            f"demo: {dags_folder / (dag_id + '.py')} not found; run from the repository root", file=sys.stderr
        )
        return 2
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="atlas-demo-"))).resolve()
    keep = args.keep or args.workdir is not None
    try:
        if args.example == "export":
            return _run_export(args, dags_folder, workdir)
        return _run(args, dags_folder, workdir)
    finally:
        if keep:
            _step(f"Kept the Airflow home and the snapshot in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            _step(f"Removed {workdir} (the Airflow home and the snapshot); --keep keeps it")


def _run(args: argparse.Namespace, dags_folder: Path, workdir: Path) -> int:
    """Run the example DAG against a fresh emulator with its files under ``workdir``."""
    destination = workdir / "snapshots"
    flex = args.example == "flex"
    started = time.monotonic()
    with AtlasEmulator(ready_after=args.ready_after) as emulator:
        seed = seed_demo(emulator, size_bytes=args.download_size, flex=flex)
        if flex:
            emulator.add_flex_cluster(seed.group_id, FLEX_TARGET)
            _step(
                f"Atlas emulator on {emulator.base_url}: project {seed.group_id}, flex clusters "
                f"{seed.flex_cluster_name} and {FLEX_TARGET} (the restore's target)"
            )
        else:
            _step(
                f"Atlas emulator on {emulator.base_url}: project {seed.group_id}, cluster {seed.cluster_name}"
            )
        connection = emulator.connection(group_id=seed.group_id)  # plain http, downloads included
        _configure_airflow(workdir / "airflow", dags_folder, connection)
        _step(f"Airflow home {workdir / 'airflow'}: migrating the metadata database")
        from airflow_provider_atlas_restore.testing.dag_runs import migrate_database, run_dag

        try:
            migrate_database()
        except RuntimeError as error:
            print(f"demo: {error}", file=sys.stderr)
            return 1
        dag_id = FLEX_DAG_ID if flex else DAG_ID
        ready = "restore finished" if flex else "download ready"
        _step(f"Running DAG {dag_id} ({ready} {args.ready_after:g} s after the restore starts)")
        # Airflow's in-process API client imports starlette's test client, which warns about httpx.
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

        if flex:
            run_conf = {
                "cluster_name": seed.flex_cluster_name,
                "target_cluster_name": FLEX_TARGET,
                "destination": str(destination),
            }
        else:
            run_conf = {"cluster_name": seed.cluster_name, "destination": str(destination)}
        result = run_dag(dags_folder, dag_id, run_conf)
    if flex:
        _print_flex_summary(result, time.monotonic() - started)
    else:
        _print_summary(result, time.monotonic() - started)
    return 0 if result.state == "success" else 1


def _print_summary(result: Any, seconds: float) -> None:
    ready = result.xcom.get("create_restore") or {}
    files = result.xcom.get("download") or []
    print()
    print(f"DAG run:          {result.state} in {seconds:.1f} s")
    for task_id in TASK_ORDER:
        state = result.task_states.get(task_id, "not run")
        print(f"  {task_id:<20} {state:<8} {result.durations.get(task_id, 0.0):6.1f} s")
    print(f"Snapshot:         {ready.get('snapshot_id')} (newest completed)")
    print(
        f"Restore job:      {ready.get('restore_job_id')} ({ready.get('delivery_type')}), {ready.get('state')}"
    )
    print(
        f"Waited for links: {result.durations.get('create_restore', 0.0):.1f} s in create_restore (started the "
        f"restore, then waited in the triggerer while it was pending), ready until {ready.get('expires_at')}"
    )
    for entry in files:
        print(f"File:             {entry['path']}")
        print(f"                  {entry['bytes']:,} bytes, sha256 {entry['sha256']}")
    if result.state != "success":
        print("The DAG run failed: see the task logs above.", file=sys.stderr)


def _run_export(args: argparse.Namespace, dags_folder: Path, workdir: Path) -> int:
    """Run the export example against a fresh emulator seeded with an export bucket."""
    started = time.monotonic()
    with AtlasEmulator(ready_after=args.ready_after) as emulator:
        seed = seed_demo(emulator, size_bytes=args.download_size, export_bucket=DEMO_EXPORT_BUCKET)
        timings = emulator.backup_timings  # wall-clock seconds of each phase
        timings.snapshot_queued, timings.snapshot_in_progress = 1.0, args.ready_after / 2
        timings.export_queued, timings.export_in_progress = 1.0, args.ready_after
        _step(
            f"Atlas emulator on {emulator.base_url}: project {seed.group_id}, cluster {seed.cluster_name}, "
            f"export bucket {DEMO_EXPORT_BUCKET} ({seed.export_bucket_id})"
        )
        _configure_airflow(workdir / "airflow", dags_folder, emulator.connection(group_id=seed.group_id))
        _step(f"Airflow home {workdir / 'airflow'}: migrating the metadata database")
        from airflow_provider_atlas_restore.testing.dag_runs import migrate_database, run_dag

        try:
            migrate_database()
        except RuntimeError as error:
            print(f"demo: {error}", file=sys.stderr)
            return 1
        _step(f"Running DAG {EXPORT_DAG_ID} (the export takes {args.ready_after:g} s)")
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        result = run_dag(
            dags_folder, EXPORT_DAG_ID, {"cluster_name": seed.cluster_name, "bucket_name": DEMO_EXPORT_BUCKET}
        )
        remaining = list(emulator.store.cluster(seed.group_id, seed.cluster_name).snapshots)
    _print_export_summary(result, time.monotonic() - started, remaining)
    return 0 if result.state == "success" else 1


def _print_export_summary(result: Any, seconds: float, remaining: list[str]) -> None:
    taken = result.xcom.get("take_snapshot") or {}
    exported = result.xcom.get("export") or {}
    print()
    print(f"DAG run:          {result.state} in {seconds:.1f} s")
    for task_id in EXPORT_TASK_ORDER:
        state = result.task_states.get(task_id, "not run")
        print(f"  {task_id:<20} {state:<8} {result.durations.get(task_id, 0.0):6.1f} s")
    print(f"Snapshot:         {taken.get('snapshot_id')} (on demand), {taken.get('status')}")
    print(f"Export job:       {exported.get('export_job_id')}, {exported.get('state')}")
    print(f"Export URI:       {exported.get('uri')}")
    deleted = taken.get("snapshot_id") is not None and taken.get("snapshot_id") not in remaining
    print(f"Snapshot deleted: {'yes' if deleted else 'no'}")


def _print_flex_summary(result: Any, seconds: float) -> None:
    restored = result.xcom.get("restore_flex") or {}
    files = result.xcom.get("download") or []
    print()
    print(f"DAG run:          {result.state} in {seconds:.1f} s")
    for task_id in FLEX_TASK_ORDER:
        state = result.task_states.get(task_id, "not run")
        print(f"  {task_id:<20} {state:<8} {result.durations.get(task_id, 0.0):6.1f} s")
    print(f"Snapshot:         {restored.get('snapshot_id')} (newest completed flex snapshot)")
    print(
        f"Restore job:      {restored.get('restore_job_id')} ({restored.get('delivery_type')}) onto "
        f"{FLEX_TARGET}, {restored.get('state')}"
    )
    print(
        f"Waited:           {result.durations.get('restore_flex', 0.0):.1f} s in restore_flex (started the "
        "restore, then waited in the triggerer until it was COMPLETED)"
    )
    for entry in files:
        print(f"File:             {entry['path']}")
        print(f"                  {entry['bytes']:,} bytes, sha256 {entry['sha256']}")
    if result.state != "success":
        print("The DAG run failed: see the task logs above.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
