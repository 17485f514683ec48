"""
Figure 4: what importing the provider's operator, sensor and hook modules adds to ``import airflow.sdk``.

Fresh interpreters, medians of wall and CPU time, and ``-X importtime`` for where the time goes.
Bytecode caches are on (``PYTHONPYCACHEPREFIX`` under ``benchmarks/.work``, filled by the
warm-up), as on any installed Airflow; a run without them (every module compiled from source,
as with ``PYTHONDONTWRITEBYTECODE=1`` and no ``.pyc`` in the virtualenv) is reported beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from airflow_provider_atlas_restore.get_provider_info import get_provider_info
from benchmarks.common import WORK, Row, emit, log, median

BASE = "import airflow.sdk"
PACKAGE = "airflow_provider_atlas_restore"
#: The event trigger a watcher DAG builds at parse time (``AssetWatcher(trigger=...)``); the other
#: triggers are built when a task defers, not when a DAG file is parsed.
EVENT_TRIGGER = f"{PACKAGE}.triggers.snapshot_events"
#: Every operator module and the sensor, as the provider registers them (so new ones are covered).
_REGISTERED = [
    module
    for section in ("operators", "sensors")
    for entry in get_provider_info()[section]
    for module in entry["python-modules"]
]
PARSE_TIME_MODULES = (*_REGISTERED, EVENT_TRIGGER)
OUR_MODULES = (f"{PACKAGE}.hooks.atlas", *PARSE_TIME_MODULES)
#: A watcher DAG builds the event trigger when parsed: whatever that imports counts too.
BUILD_TRIGGER = f"; from {EVENT_TRIGGER} import AtlasSnapshotEventTrigger; AtlasSnapshotEventTrigger(cluster_name='Cluster0')"
OURS = BASE + "; " + "; ".join(f"import {module}" for module in OUR_MODULES) + BUILD_TRIGGER
#: What a DAG file imports: every operator, the sensor and the event trigger, not the hook
#: (imported when a task runs).
DAG_FILE = BASE + "; " + "; ".join(f"import {module}" for module in PARSE_TIME_MODULES) + BUILD_TRIGGER
#: The same, leaving at once (``os._exit``): import time without the interpreter's teardown.
EXIT = "; import os; os._exit(0)"


def _env(bytecode: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache-empty")  # never written, so never found
    return env


def fresh_interpreter(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Run ``code`` in a new interpreter; return its wall and CPU (user + system) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(
    runs: int, bytecode: bool, exit_at_once: bool = False, ours: str = OURS
) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of both imports, interleaved, after one warm-up each."""
    env = _env(bytecode)
    samples: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in ("base", "ours")}
    tail = EXIT if exit_at_once else ""
    for index in range(runs + 1):
        for name, code in (("base", BASE + tail), ("ours", ours + tail)):
            wall, cpu = fresh_interpreter(code, env)
            if index:
                samples[name]["wall"].append(wall)
                samples[name]["cpu"].append(cpu)
        log(f"  imports run {index + 1}/{runs + 1}: ours {wall:.2f}s")
    return {name: {kind: median(values) for kind, values in kinds.items()} for name, kinds in samples.items()}


def importtime(runs: int, code: str = OURS) -> dict[str, float]:
    """
    Median microseconds from ``-X importtime``: ``airflow.sdk`` and what our imports add after it.

    Our share is the cumulative time of every top-level import that follows ``airflow.sdk``.
    """
    env = _env(bytecode=True)
    base_us, added_us, airflow_us = [], [], []
    per_module: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        after_sdk, added = False, 0.0
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, cumulative, name = line.split("|", 2)
            if not cumulative.strip().isdigit():
                continue  # the header line
            module = name.strip()
            if name.startswith("  "):  # nested: keep the heavy ones, to say where the time goes
                if after_sdk and float(cumulative) >= 5000:
                    per_module.setdefault(f"nested {module}", []).append(float(cumulative))
                continue
            if module == "airflow.sdk":
                base_us.append(float(cumulative))
                after_sdk = True
            elif after_sdk:
                added += float(cumulative)
                per_module.setdefault(module, []).append(float(cumulative))
        added_us.append(added)
        airflow_us.append(_airflow_modules_us(done.stderr))
    result = {
        "airflow.sdk_us": median(base_us),
        "added_us": median(added_us),
        "airflow_modules_us": median(airflow_us),
    }
    result.update({f"{module}_us": median(values) for module, values in per_module.items()})
    return result


def _airflow_modules_us(stderr: str) -> float:
    """
    Cumulative microseconds of Airflow's own modules that our imports load after ``airflow.sdk``.

    Such as ``airflow.triggers.base``, the event trigger's base class, which ``airflow.sdk``
    does not import. ``-X importtime`` prints a module after what it imports, so reading
    backwards finds each outermost Airflow module first and skips what it imports.
    """
    lines = [line for line in stderr.splitlines() if line.startswith("import time:") and "|" in line]
    names = [line.split("|", 2)[2] for line in lines]
    start = next(
        (i for i, name in enumerate(names) if name.strip() == "airflow.sdk" and not name.startswith("  ")),
        None,
    )
    if start is None:
        return 0.0
    total, inside = 0.0, None
    for line in reversed(lines[start + 1 :]):
        _, cumulative, name = line.split("|", 2)
        depth = len(name) - len(name.lstrip(" "))
        if inside is not None and depth > inside:
            continue
        inside = None
        module = name.strip()
        if module.startswith("airflow.") and not module.startswith(PACKAGE):
            total += float(cumulative)
            inside = depth
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(args.runs, 5)
    log("figure 4: imports with bytecode caches")
    cached = measure(runs, bytecode=True)
    log("figure 4: what a DAG file imports (every operator, the sensor, the event trigger), bytecode caches")
    dag_file_wall = measure(runs, bytecode=True, ours=DAG_FILE)
    log("figure 4: imports with bytecode caches, leaving by os._exit (no teardown)")
    no_teardown = measure(runs, bytecode=True, exit_at_once=True)
    log("figure 4: imports compiled from source (no bytecode)")
    source = measure(3, bytecode=False)  # a side note: 3 runs of ~4 s each
    log("figure 4: -X importtime")
    breakdown = importtime(runs)
    dag_file = importtime(runs, DAG_FILE)
    rows = []
    hooks_too = "our operator, sensor, event trigger and hook modules"
    variants = (
        (f"{hooks_too} (bytecode cached)", cached, "4", runs),
        (
            "what a DAG file imports: every operator, the sensor and the event trigger (bytecode cached)",
            dag_file_wall,
            "4d",
            runs,
        ),
        (f"{hooks_too} (bytecode cached, os._exit: no teardown)", no_teardown, "4e", runs),
        (f"{hooks_too} (no bytecode, compiled)", source, "4'", 3),
    )
    for label, data, fig, count in variants:
        base, ours = data["base"]["wall"], data["ours"]["wall"]
        added = (ours - base) / base
        cpu_added = (data["ours"]["cpu"] - data["base"]["cpu"]) / data["base"]["cpu"]
        rows.append(
            Row(
                fig,
                f"import cost of {label}, fresh-interpreter wall",
                ours,
                "s",
                base,
                "`import airflow.sdk` alone",
                "<= 5% added",
                added <= 0.05,
                runs=count,
                ratio=ours / base,
                note=f"added {100 * added:.1f}% wall, {100 * cpu_added:.1f}% CPU",
                detail=data,
            )
        )
    for fig, label, times in (
        ("4i", "operator, sensor, event trigger and hook modules", breakdown),
        ("4p", "what a DAG file imports: every operator, the sensor and the event trigger", dag_file),
    ):
        share = times["added_us"] / times["airflow.sdk_us"]
        rows.append(
            Row(
                fig,
                f"import cost by `-X importtime` (cumulative us after airflow.sdk), {label}",
                times["added_us"] / 1e6,
                "s",
                times["airflow.sdk_us"] / 1e6,
                "airflow.sdk cumulative",
                "<= 5% added",
                share <= 0.05,
                runs=runs,
                ratio=1 + share,
                note=(
                    f"added {100 * share:.1f}%, of which Airflow's own modules (such as"
                    f" airflow.triggers.base) {100 * times['airflow_modules_us'] / times['airflow.sdk_us']:.1f}%"
                ),
                detail=times,
            )
        )
    emit(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
