"""
Parsing a DAG that uses the provider must not import the HTTP clients or the retry library.

A DAG file imports the operator and sensor modules and builds the tasks each time it is parsed;
the hook (``requests``, ``urllib3``), the trigger (``httpx``) and the retry rules (``tenacity``)
are needed only when a task runs. Each check runs in a fresh interpreter and compares with what
Airflow's own task SDK import already loads there, so it holds on every supported Airflow.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys

import pytest

from airflow_provider_atlas_restore.get_provider_info import get_provider_info
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

#: Third-party modules that only running a task may need.
RUN_TIME_LIBRARIES = ("requests", "urllib3", "charset_normalizer", "httpx", "tenacity")
#: Our own modules that bring them, or Airflow's trigger machinery.
RUN_TIME_MODULES = (
    "airflow_provider_atlas_restore.hooks.atlas",
    "airflow_provider_atlas_restore.hooks.base",
    "airflow_provider_atlas_restore.client.async_client",
    "airflow_provider_atlas_restore.triggers.restore_job",
    "airflow_provider_atlas_restore.download.downloader",
    "airflow_provider_atlas_restore.client.transport_errors",
)

#: What a DAG file imports before it names any provider: the task SDK, or on Airflow 2.11 the
#: compat names the provider's operators and sensor use in its place.
if AIRFLOW_V_3_0_PLUS:
    AIRFLOW_ONLY = "import airflow.sdk"
else:
    AIRFLOW_ONLY = (
        "from airflow.providers.common.compat.sdk import (AirflowException, AirflowFailException, "
        "AirflowSensorTimeout, AirflowSkipException, BaseOperator, BaseOperatorLink, "
        "BaseSensorOperator, PokeReturnValue, XCom, conf, mask_secret)"
    )

#: Our modules that only running a task (or a trigger, in the triggerer) needs: models, watched
#: resources, request bodies and mark stores that a DAG file's tasks do not use when built.
RUN_TIME_ONLY_MODULES = tuple(
    f"airflow_provider_atlas_restore.{name}"
    for name in (
        "api.bodies",
        "api.flex_endpoints",
        "api.watched_resources",
        "models.collection_restore_job",
        "models.export_bucket",
        "models.export_job",
        "models.restore_job",
        "models.result",
        "models.snapshot",
        "models.snapshot_marks",
        "models.wait",
        "triggers.event_marks",
    )
)

PARSE_TIME_MODULES = sorted(
    module
    for section in ("operators", "sensors")
    for entry in get_provider_info()[section]
    for module in entry["python-modules"]
)

#: The tasks a DAG file would build: one of each operator and the sensor, with defaults.
BUILD_TASKS = """
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
    AtlasCancelRestoreJobOperator,
    AtlasCreateRestoreJobOperator,
)
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

job = "6a7948342c88faeba59eb866"
AtlasListRestoreJobsOperator(task_id="list", cluster_name="Cluster0")
AtlasCreateRestoreJobOperator(task_id="create", cluster_name="Cluster0")
AtlasCancelRestoreJobOperator(task_id="cancel", cluster_name="Cluster0", restore_job_id=job)
AtlasRestoreJobSensor(task_id="wait", cluster_name="Cluster0", restore_job_id=job)
AtlasDownloadSnapshotOperator(
    task_id="download", destination="/tmp/restores", cluster_name="Cluster0", restore_job_id=job
)
from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_collections import AtlasRestoreCollectionsOperator

AtlasExportSnapshotOperator(task_id="export", cluster_name="Cluster0", bucket_name="exports-bucket")
AtlasRestoreCollectionsOperator(
    task_id="collections", cluster_name="Cluster0", target_cluster_name="Target0", snapshot_id=job,
    collections=["sales.orders"],
)
"""


def loaded_modules(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter and return every module it left in ``sys.modules``."""
    probe = f"{code}\nimport json as _json, sys as _sys\nprint(_json.dumps(sorted(_sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def airflow_alone() -> set[str]:
    return loaded_modules(AIRFLOW_ONLY)


def added_at_parse_time(airflow_alone: set[str], code: str) -> list[str]:
    """Return the run-time-only modules that ``code`` loads on top of Airflow's own import."""
    added = loaded_modules(f"{AIRFLOW_ONLY}\n{code}") - airflow_alone
    libraries = {name.split(".")[0] for name in added} & set(RUN_TIME_LIBRARIES) - airflow_alone
    return sorted(libraries | (added & set(RUN_TIME_MODULES)))


def test_the_probe_sees_what_a_module_imports(airflow_alone):
    # The other tests would pass vacuously if the probe missed imports: here it must see them.
    watched = [name for name in RUN_TIME_LIBRARIES if name not in airflow_alone]
    assert watched, "Airflow alone already imports every watched library: nothing would be checked"

    added = added_at_parse_time(airflow_alone, "import " + ", ".join(watched + list(RUN_TIME_MODULES)))

    assert set(watched) | set(RUN_TIME_MODULES) <= set(added)


def test_importing_the_operators_and_sensors_loads_no_http_client_hook_or_trigger(airflow_alone):
    assert len(PARSE_TIME_MODULES) >= 4  # three operator modules and the sensor

    added = added_at_parse_time(airflow_alone, "\n".join(f"import {m}" for m in PARSE_TIME_MODULES))

    assert added == []


def test_building_the_tasks_of_a_dag_loads_no_http_client_hook_or_trigger(airflow_alone):
    added = added_at_parse_time(airflow_alone, BUILD_TASKS)

    assert added == []


def test_download_operator_defaults_are_the_downloaders():
    # The operator takes its defaults from a light module, not the downloader: they must agree.
    from airflow_provider_atlas_restore.download.downloader import (
        DEFAULT_CHUNK_SIZE,
        DEFAULT_DOWNLOAD_RETRY,
        DEFAULT_PROGRESS_INTERVAL,
    )
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator

    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(AtlasDownloadSnapshotOperator).parameters.items()
    }
    operator = AtlasDownloadSnapshotOperator(
        task_id="download", destination="/tmp/restores", cluster_name="Cluster0", restore_job_id="x" * 24
    )

    assert defaults["chunk_size"] == operator.chunk_size == DEFAULT_CHUNK_SIZE
    assert defaults["progress_interval"] == operator.progress_interval == DEFAULT_PROGRESS_INTERVAL
    assert defaults["max_attempts"] == DEFAULT_DOWNLOAD_RETRY.max_attempts
    assert defaults["retry_initial_wait"] == DEFAULT_DOWNLOAD_RETRY.initial_wait
    assert operator.retry == DEFAULT_DOWNLOAD_RETRY


def test_operators_and_sensor_default_to_the_hooks_connection():
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
    from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
        AtlasCancelRestoreJobOperator,
        AtlasCreateRestoreJobOperator,
    )
    from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
    from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

    classes = (
        AtlasListRestoreJobsOperator,
        AtlasCreateRestoreJobOperator,
        AtlasCancelRestoreJobOperator,
        AtlasRestoreJobSensor,
        AtlasDownloadSnapshotOperator,
    )
    defaults = {cls: inspect.signature(cls).parameters["atlas_conn_id"].default for cls in classes}

    assert AtlasHook.default_conn_name == "mongodb_atlas_default"
    assert set(defaults.values()) == {AtlasHook.default_conn_name}
    assert inspect.signature(AtlasHook).parameters["atlas_conn_id"].default == AtlasHook.default_conn_name


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="event triggers (AssetWatcher) exist from Airflow 3")
def test_building_the_snapshot_event_trigger_loads_no_http_client(airflow_alone):
    added = added_at_parse_time(
        airflow_alone,
        "from airflow_provider_atlas_restore.triggers.snapshot_events import AtlasSnapshotEventTrigger\n"
        "AtlasSnapshotEventTrigger(cluster_name='Cluster0')",
    )

    assert added == []


def test_building_the_tasks_loads_no_orm_model_and_no_openlineage(airflow_alone):
    # The download task builds its folder's asset at parse time: from airflow.sdk's light Asset,
    # not through the compat module that imports the ORM (airflow.models.asset, ~0.3 s); and
    # the optional OpenLineage provider is imported only when OpenLineage asks for facets.
    added = loaded_modules(f"{AIRFLOW_ONLY}\n{BUILD_TASKS}") - airflow_alone
    heavy = ("airflow.models.asset", "airflow.models.dataset", "openlineage", "airflow.providers.openlineage")

    assert sorted(name for name in added if name.startswith(heavy)) == []
    assert "airflow_provider_atlas_restore.lineage.assets" in added  # the probe sees the lineage import


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="event triggers (AssetWatcher) exist from Airflow 3")
def test_a_dag_file_with_every_operator_and_the_event_trigger_loads_no_http_client_orm_or_openlineage(
    airflow_alone,
):
    # What benchmark figure 4d/4p measures: every registered operator module, the sensor, and the
    # event trigger a watcher DAG builds when parsed.
    assert "airflow_provider_atlas_restore.operators.on_demand_snapshots" in PARSE_TIME_MODULES
    code = "\n".join(f"import {module}" for module in PARSE_TIME_MODULES) + (
        "\nfrom airflow_provider_atlas_restore.triggers.snapshot_events import AtlasSnapshotEventTrigger"
        "\nAtlasSnapshotEventTrigger(cluster_name='Cluster0')"
    )
    added = loaded_modules(f"{AIRFLOW_ONLY}\n{code}") - airflow_alone
    libraries = {name.split(".")[0] for name in added} & set(RUN_TIME_LIBRARIES)
    heavy = ("airflow.models.asset", "airflow.models.dataset", "openlineage", "airflow.providers.openlineage")

    assert sorted(libraries | (added & set(RUN_TIME_MODULES))) == []
    assert sorted(name for name in added if name.startswith(heavy)) == []
    assert "airflow_provider_atlas_restore.triggers.snapshot_events" in added  # the probe sees it


#: The rest of a DAG file with every task: the snapshot operators and, on Airflow 3, the event
#: trigger a watcher DAG builds (``AssetWatcher(trigger=...)``).
BUILD_EVERY_TASK = (
    BUILD_TASKS
    + """
from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator

AtlasTakeSnapshotOperator(task_id="take", cluster_name="Cluster0")
AtlasDeleteSnapshotOperator(task_id="delete", cluster_name="Cluster0", snapshot_id=job)
"""
    + (
        "from airflow_provider_atlas_restore.triggers.snapshot_events import AtlasSnapshotEventTrigger\n"
        "AtlasSnapshotEventTrigger(cluster_name='Cluster0')\n"
        if AIRFLOW_V_3_0_PLUS
        else ""
    )
)


def test_a_dag_file_building_every_task_loads_no_run_time_only_module_of_ours(airflow_alone):
    # Benchmark figure 4p: the tasks' models, watched resources, bodies and mark stores are
    # imported by execute, poke and run, not when a DAG file is parsed (issue 19).
    assert all(importlib.util.find_spec(name) for name in RUN_TIME_ONLY_MODULES)  # none renamed away
    code = "\n".join(f"import {module}" for module in PARSE_TIME_MODULES) + "\n" + BUILD_EVERY_TASK
    added = loaded_modules(f"{AIRFLOW_ONLY}\n{code}") - airflow_alone

    assert sorted(added & set(RUN_TIME_ONLY_MODULES)) == []
    built = {"operators.delete_snapshot", "operators.on_demand_snapshots", "models.restore_job_state"}
    assert {f"airflow_provider_atlas_restore.{name}" for name in built} <= added  # the probe sees them


def test_the_old_import_paths_of_the_models_still_work():
    # The package imports its names when first asked for; each must be the one of its module.
    from airflow_provider_atlas_restore import models
    from airflow_provider_atlas_restore.models import restore_job, result, wait

    assert models.RestoreJob is restore_job.RestoreJob
    assert models.RestoreJobState is restore_job.RestoreJobState
    assert models.parse_timestamp is restore_job.parse_timestamp
    assert models.RestoreJobResult is result.RestoreJobResult
    assert models.evaluate_restore_job is wait.evaluate_restore_job
    assert {name for name in models.__all__ if getattr(models, name, None) is None} == set()
    assert set(models.__all__) <= set(dir(models))
    with pytest.raises(AttributeError):
        _ = models.NoSuchName
