"""Run a test DAG with OpenLineage's file transport in a fresh interpreter, and read the events back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import TEST_DAGS

#: Runs one DAG in a fresh interpreter: OpenLineage reads its configuration once.
RUN_THE_DAG = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from airflow_provider_atlas_restore.testing.dag_runs import run_dag

    result = run_dag(Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))
    Path(sys.argv[4]).write_text(json.dumps({"task_states": result.task_states, "xcom": result.xcom}))
    """
)


def run_with_openlineage(dag_id: str, conf: dict[str, Any], events_file: Path, **env: str) -> dict[str, Any]:
    """
    Run ``dag_id`` of the test DAGs with OpenLineage writing its events to ``events_file``.

    :param dag_id: the DAG to run.
    :param conf: the run's conf.
    :param events_file: where the file transport appends the events.
    :param env: more environment variables for the run.
    """
    environment = {
        **os.environ,
        **env,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "atlas-tests",
    }
    # The result goes to a file of its own: OpenLineage's forked emitters share the run's stdout
    # and may write into the middle of a line printed there.
    result_file = events_file.with_name(events_file.name + ".result.json")
    done = subprocess.run(
        [sys.executable, "-c", RUN_THE_DAG, str(TEST_DAGS), dag_id, json.dumps(conf), str(result_file)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(result_file.read_text()))


def complete_events(events_file: Path, task_id: str) -> list[dict[str, Any]]:
    """Return the COMPLETE events of ``task_id``; several processes append, so lines may run together."""
    text, decoder, events, at = events_file.read_text(), json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        event, at = decoder.raw_decode(text, at)
        events.append(event)
    return [
        event
        for event in events
        if event["eventType"] == "COMPLETE" and event["job"]["name"].endswith(f".{task_id}")
    ]


def datasets(event: dict[str, Any], side: str) -> list[tuple[str, str]]:
    """Return the ``(namespace, name)`` of each of an event's ``inputs`` or ``outputs``."""
    return [(dataset["namespace"], dataset["name"]) for dataset in event[side]]
