"""
``make bench``: every figure beside its baseline, measured in the same run, printed as a table.

Each figure module runs in an interpreter of its own (so its memory and imports are its own)
against a fresh emulator in another process. Raw results go to ``benchmarks/.work/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

from benchmarks.common import RESULT_PREFIX, WORK, EmulatorProcess, load_average, log

#: module, needs an emulator, time limit in seconds
MODULES: dict[str, tuple[bool, float]] = {
    "emulator_cost": (True, 120.0),
    "fig_listing": (True, 300.0),
    "fig_imports": (False, 240.0),
    "fig_triggers": (True, 540.0),
    "fig_download": (True, 480.0),
    "fig_s3_upload": (True, 900.0),
}
#: archive sizes the emulator is seeded with, per module (a 1 MiB one for the others)
ARCHIVE_SIZES: dict[str, tuple[int, ...]] = {
    "fig_download": (1 << 30, 2 << 30, 256 << 20),
    "fig_s3_upload": (1 << 30,),
}


def machine() -> dict[str, Any]:
    """Describe the machine and the software versions measured."""
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), ""
            )
    except OSError:
        pass
    versions = {}
    for name in ("apache-airflow", "apache-airflow-providers-http", "requests", "httpx", "urllib3"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=False).stdout
    # Read-only: which package code was measured (others may be editing it).
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "airflow_provider_atlas_restore"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "curl": curl.splitlines()[0] if curl else "not found",
        "load_average_start": load_average(),
        "commit": head.stdout.strip(),
        "package_changes_not_committed": dirty.stdout.split("\n") if dirty.stdout.strip() else [],
    }


def run_module(name: str, runs: int, extra_args: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run one figure module in its own interpreter; return its rows and extra data."""
    needs_emulator, limit = MODULES[name]
    env = {**os.environ, "AIRFLOW_HOME": str(WORK / "airflow_home"), "PYTHONUNBUFFERED": "1"}
    emulator = None
    if needs_emulator:
        emulator = EmulatorProcess(sizes=ARCHIVE_SIZES.get(name, (1 << 20,)))
        env.update(emulator.env())
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", "--runs", str(runs), *extra_args],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            timeout=limit,
            check=False,
        )
    finally:
        if emulator is not None:
            emulator.stop()
    log(f"{name}: {time.monotonic() - started:.0f} s, exit {done.returncode}")
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            payload = json.loads(line[len(RESULT_PREFIX) :])
            rows += payload["rows"]
            extra.update(payload["extra"])
    if done.returncode != 0:
        extra["error"] = f"exit status {done.returncode}"
    return rows, extra


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s"
    text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}"


def table(rows: list[dict[str, Any]]) -> str:
    """Render the rows as a Markdown table."""
    lines = [
        "| # | figure | ours | baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.3f}x" if row.get("ratio") is not None else "n/a"
        met = {True: "yes", False: "**no**", None: "n/a"}[row["met"]]
        unit = row["unit"]
        ours, base = _number(row["ours"], unit), _number(row["baseline"], unit)
        lines.append(
            f"| {row['fig']} | {row['figure']} | {ours} | {base} ({row['baseline_label']}) | {ratio} "
            f"| {row['goal']} | {met} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure, after one warm-up")
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated modules to run")
    args, extra_args = parser.parse_known_args()
    WORK.mkdir(exist_ok=True)
    (WORK / "airflow_home").mkdir(exist_ok=True)
    # Bytecode caches on, as on any installed Airflow (some sandboxes set PYTHONDONTWRITEBYTECODE),
    # kept under benchmarks/.work so neither the tree nor the virtualenv is written to.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    info = machine()
    log(f"machine: {json.dumps(info)}")
    rows: list[dict[str, Any]] = []
    extras: dict[str, Any] = {}
    for name in args.only.split(","):
        log(f"== {name}")
        module_rows, module_extra = run_module(name, args.runs, extra_args)
        rows += module_rows
        extras[name] = module_extra
    info["load_average_end"] = load_average()
    rows.sort(key=lambda row: (row["fig"].rstrip("'abcdef"), row["fig"]))
    report = table(rows)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    (WORK / "results.json").write_text(
        json.dumps({"when": stamp, "machine": info, "rows": rows, "extra": extras}, indent=2)
    )
    (WORK / "results.md").write_text(report + "\n")
    print(
        f"machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    )
    print(f"load average: start {info['load_average_start']}, end {info['load_average_end']}")
    print(
        f"package at commit {info['commit']}; uncommitted package changes: {info['package_changes_not_committed']}"
    )
    print(report)
    print(f"raw results: {WORK / 'results.json'}")
    return 1 if any("error" in extra for extra in extras.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
