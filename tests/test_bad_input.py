"""
Bad input, table-driven: every public hook method, operator, sensor and trigger parameter.

Each bad value gives a clear error (naming the parameter or the rule) before any request is
sent: the emulator counts zero requests, no XCom is left behind, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.extra_links import LINK_XCOM_KEY
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
    AtlasCancelRestoreJobOperator,
    AtlasCreateRestoreJobOperator,
)
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor
from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger
from tests.bad_input_tasks import BAD_INPUT_TASKS, FALSY, GROUP, JOB, NOT_TEXT, SNAP, C
from tests.conftest import TEST_DAGS

TARGET = {"target_cluster_name": "T-1", "target_group_id": GROUP}

HOOK_CALLS: list[tuple[str, Callable[[AtlasHook], Any], str]] = [
    ("job id not hex", lambda h: h.get_restore_job(C, "zz" * 12), "restore_job_id"),
    ("job id too short", lambda h: h.get_restore_job(C, JOB[:-1]), "restore_job_id"),
    ("job id not a string", lambda h: h.get_restore_job(C, 12345), "restore_job_id"),
    ("cluster name with a slash", lambda h: h.get_restore_job("a/b", JOB), "cluster_name"),
    ("cluster name starting with a hyphen", lambda h: h.list_restore_jobs("-x"), "cluster_name"),
    ("cluster name empty", lambda h: h.list_restore_jobs(""), "cluster_name"),
    ("group id upper case", lambda h: h.get_project(GROUP.upper()), "group_id"),
    ("page number 0", lambda h: h.get_restore_jobs_page(C, page_num=0), "page_num"),
    ("page number as text", lambda h: h.get_restore_jobs_page(C, page_num="2"), "page_num"),
    ("page size 0", lambda h: h.get_restore_jobs_page(C, items_per_page=0), "items_per_page"),
    ("page size 501", lambda h: h.list_restore_jobs(C, page_size=501), "items_per_page"),
    ("page size a boolean", lambda h: h.list_restore_jobs(C, page_size=True), "items_per_page"),
    ("negative cap", lambda h: h.list_restore_jobs(C, max_items=-1), "max_items"),
    ("zero page bound", lambda h: h.iter_restore_jobs(C, max_pages=0), "max_pages"),
    ("unknown delivery type", lambda h: h.create_restore_job(C, "tape", snapshot_id=SNAP), "delivery_type"),
    ("download without snapshot", lambda h: h.create_restore_job(C, "download"), "snapshot_id"),
    ("automated without target", lambda h: h.create_restore_job(C, "automated", snapshot_id=SNAP), "target_cluster_name"),
    ("point in time without moment", lambda h: h.create_restore_job(C, "pointInTime", **TARGET), "point_in_time_utc_seconds"),
    ("point in time both kinds", lambda h: h.create_restore_job(C, "pointInTime", **TARGET, point_in_time_utc_seconds=1786332905, oplog_ts=1786332905, oplog_inc=1), "not both"),
    ("point in time before 2008", lambda h: h.create_restore_job(C, "pointInTime", **TARGET, point_in_time_utc_seconds=5), "point_in_time_utc_seconds"),
    ("cancel with bad job id", lambda h: h.cancel_restore_job(C, "nope"), "restore_job_id"),
    ("snapshot page size 501", lambda h: h.get_snapshots_page(C, items_per_page=501), "items_per_page"),
    ("snapshots of a bad cluster", lambda h: h.latest_completed_snapshot("bad name"), "cluster_name"),
]  # fmt: skip

# Every name and id parameter of every public hook method, given a value that is not text.
NAME_AND_ID_CALLS: dict[str, Callable[[AtlasHook, Any], Any]] = {
    "cluster_name of get_restore_job": lambda h, v: h.get_restore_job(v, JOB),
    "restore_job_id of get_restore_job": lambda h, v: h.get_restore_job(C, v),
    "cluster_name of get_restore_jobs_page": lambda h, v: h.get_restore_jobs_page(v),
    "cluster_name of list_restore_jobs": lambda h, v: h.list_restore_jobs(v),
    "cluster_name of iter_restore_jobs": lambda h, v: h.iter_restore_jobs(v),
    "cluster_name of create_restore_job": lambda h, v: h.create_restore_job(v, "download", snapshot_id=SNAP),
    "delivery_type of create_restore_job": lambda h, v: h.create_restore_job(C, v, snapshot_id=SNAP),
    "snapshot_id of create_restore_job": lambda h, v: h.create_restore_job(C, "download", snapshot_id=v),
    "target_cluster_name of create_restore_job": lambda h, v: h.create_restore_job(C, "automated", snapshot_id=SNAP, target_cluster_name=v, target_group_id=GROUP),
    "target_group_id of create_restore_job": lambda h, v: h.create_restore_job(C, "automated", snapshot_id=SNAP, target_cluster_name="T-1", target_group_id=v),
    "cluster_name of cancel_restore_job": lambda h, v: h.cancel_restore_job(v, JOB),
    "restore_job_id of cancel_restore_job": lambda h, v: h.cancel_restore_job(C, v),
    "cluster_name of get_snapshots_page": lambda h, v: h.get_snapshots_page(v),
    "cluster_name of list_snapshots": lambda h, v: h.list_snapshots(v),
    "cluster_name of latest_completed_snapshot": lambda h, v: h.latest_completed_snapshot(v),
}  # fmt: skip
for _name, _call in NAME_AND_ID_CALLS.items():
    for _kind, _value in {**NOT_TEXT, "none": None}.items():
        HOOK_CALLS.append((f"{_name} as {_kind}", lambda h, c=_call, v=_value: c(h, v), _name.split()[0]))
# group_id=None means the connection's project; any other value that is not an id is refused,
# falsy ones too (0, [], b"" must not quietly mean the connection's project).
GROUP_CALLS: dict[str, Callable[[AtlasHook, Any], Any]] = {
    "get_restore_job": lambda h, v: h.get_restore_job(C, JOB, v),
    "get_restore_jobs_page": lambda h, v: h.get_restore_jobs_page(C, v),
    "list_restore_jobs": lambda h, v: h.list_restore_jobs(C, v),
    "iter_restore_jobs": lambda h, v: h.iter_restore_jobs(C, v),
    "create_restore_job": lambda h, v: h.create_restore_job(C, "download", v, snapshot_id=SNAP),
    "cancel_restore_job": lambda h, v: h.cancel_restore_job(C, JOB, v),
    "get_snapshots_page": lambda h, v: h.get_snapshots_page(C, v),
    "list_snapshots": lambda h, v: h.list_snapshots(C, v),
    "latest_completed_snapshot": lambda h, v: h.latest_completed_snapshot(C, v),
}
for _name, _call in GROUP_CALLS.items():
    for _kind, _value in {**NOT_TEXT, **FALSY}.items():
        HOOK_CALLS.append(
            (f"group_id of {_name} as {_kind}", lambda h, c=_call, v=_value: c(h, v), "group_id")
        )
# Flags: a string such as "false" would count as true.
HOOK_CALLS += [
    ("include_count as text", lambda h: h.get_restore_jobs_page(C, include_count="false"), "include_count"),
    ("pretty as a number", lambda h: h.get_restore_jobs_page(C, pretty=1), "pretty"),
    ("envelope as text", lambda h: h.get_restore_jobs_page(C, envelope="no"), "envelope"),
    ("sharded of list_snapshots as text", lambda h: h.list_snapshots(C, sharded="false"), "sharded"),
    ("sharded of get_snapshots_page as text", lambda h: h.get_snapshots_page(C, sharded="yes"), "sharded"),
    ("sharded of latest_completed_snapshot as a number", lambda h: h.latest_completed_snapshot(C, sharded=0), "sharded"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "parameter"), HOOK_CALLS, ids=[case for case, _, _ in HOOK_CALLS])
def test_hook_refuses_bad_input_before_any_request(
    atlas_emulator, emulator_connection, case, call, parameter
):
    with pytest.raises(AtlasInputError, match=parameter) as caught:
        call(AtlasHook())

    assert "must" in str(caught.value) or "needs" in str(caught.value) or "not both" in str(caught.value)
    assert atlas_emulator.stats.count() == 0


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"api_version": "v3"}, "api_version"),
        ({"timeout": -1}, "timeout"),
        ({"retry_max_attempts": 0}, "retry_max_attempts"),
    ],
)
def test_hook_arguments_are_refused_before_any_request(
    atlas_emulator, emulator_connection, arguments, parameter
):
    with pytest.raises(AtlasInputError, match=parameter):
        AtlasHook(**arguments).get_project()
    assert atlas_emulator.stats.count() == 0


OPERATORS_AT_PARSE_TIME: list[tuple[str, Callable[[], Any], str]] = [
    ("list: unknown delivery type", lambda: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, delivery_type="x"), "delivery_type"),
    ("list: unknown state", lambda: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, state="done"), "state"),
    ("list: page size 0", lambda: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, page_size=0), "page_size"),
    ("list: state a number", lambda: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, state=5), "state"),
    ("list: state a list of numbers", lambda: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, state=[5]), "state"),
    ("create: overwrite not confirmed", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, delivery_type="automated", **TARGET), "confirm_overwrite"),
    ("create: unknown delivery type", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, delivery_type="tape"), "delivery_type"),
    ("create: flex cluster type with a download restore", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, cluster_type="flex"), "delivery_type='download' cannot be honoured on flex"),
    ("create: flex cluster type with a point-in-time restore", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, cluster_type="flex", delivery_type="pointInTime", confirm_overwrite=True, **TARGET), "delivery_type='pointInTime' cannot be honoured on flex"),
    ("create: flex restore without confirm_overwrite", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, cluster_type="flex", delivery_type="automated", target_cluster_name="T-1"), "confirm_overwrite=True"),
    ("download: nothing to download", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x"), "restore_job"),
    ("download: snapshot_id and restore_job_id", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id=SNAP, restore_job_id=JOB, cluster_name=C), "must have one of them"),
    ("download: snapshot_id and restore_job", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id="latest", restore_job={"restore_job_id": JOB}, cluster_name=C), "snapshot_id"),
    ("download: snapshot_id without cluster", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id=SNAP), "cluster_name"),
    ("download: snapshot_id on a dedicated cluster type", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id=SNAP, cluster_name=C, cluster_type="dedicated"), "cluster_type='dedicated'"),
    ("download: snapshot_id through a private endpoint", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id=SNAP, cluster_name=C, private_endpoint_id="vpce-3bf78b0ddee411ba1"), "private_endpoint_id"),
    ("download: restore job on a flex cluster type", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", restore_job_id=JOB, cluster_name=C, cluster_type="flex"), "cluster_type='flex'"),
    ("download: unknown cluster type", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", snapshot_id=SNAP, cluster_name=C, cluster_type="serverless"), "cluster_type"),
    ("download: cluster type not text", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x", restore_job_id=JOB, cluster_name=C, cluster_type=1), "cluster_type"),
    ("trigger: bad job id", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id=GROUP, cluster_name=C, restore_job_id="x"), "restore_job_id"),
    ("trigger: bad cluster", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id=GROUP, cluster_name="a b", restore_job_id=JOB), "cluster_name"),
    ("trigger: bad group", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id="g", cluster_name=C, restore_job_id=JOB), "group_id"),
]  # fmt: skip
# On-demand snapshots: take and delete.
OPERATORS_AT_PARSE_TIME += [
    ("take snapshot: unknown if_in_progress", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, if_in_progress="queue"), "if_in_progress"),
    ("take snapshot: poll interval 0", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, poll_interval=0), "poll_interval"),
    ("take snapshot: negative timeout", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, timeout=-1), "timeout"),
    ("take snapshot: deferrable as text", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, deferrable="yes"), "deferrable"),
    ("take snapshot: wait_for_completion as text", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, wait_for_completion="no"), "wait_for_completion"),
    ("take snapshot: flex cluster type", lambda: AtlasTakeSnapshotOperator(task_id="t", cluster_name=C, cluster_type="flex"), "cluster_type='flex'"),
    ("delete snapshot: allow_scheduled as text", lambda: AtlasDeleteSnapshotOperator(task_id="t", cluster_name=C, snapshot_id=SNAP, allow_scheduled="false"), "allow_scheduled"),
    ("delete snapshot: flex cluster type", lambda: AtlasDeleteSnapshotOperator(task_id="t", cluster_name=C, snapshot_id=SNAP, cluster_type="flex"), "cluster_type='flex'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "parameter"),
    OPERATORS_AT_PARSE_TIME,
    ids=[case for case, _, _ in OPERATORS_AT_PARSE_TIME],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(case, build, parameter):
    with pytest.raises(AtlasInputError, match=parameter):
        build()


TASKS_AT_RUN_TIME: list[tuple[str, Callable[[Path], Any], str]] = [
    ("list: templated cluster renders badly", lambda _: AtlasListRestoreJobsOperator(task_id="t", cluster_name="a b"), "cluster_name"),
    ("list: templated group renders badly", lambda _: AtlasListRestoreJobsOperator(task_id="t", cluster_name=C, group_id="g"), "group_id"),
    ("create: bad snapshot id", lambda _: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, snapshot_id="s"), "snapshot_id"),
    ("create: latest of a bad cluster", lambda _: AtlasCreateRestoreJobOperator(task_id="t", cluster_name="a b"), "cluster_name"),
    ("cancel: bad job id", lambda _: AtlasCancelRestoreJobOperator(task_id="t", cluster_name=C, restore_job_id="j"), "restore_job_id"),
    ("sensor: bad job id", lambda _: AtlasRestoreJobSensor(task_id="t", cluster_name=C, restore_job_id="j", deferrable=False), "restore_job_id"),
    ("sensor: bad cluster", lambda _: AtlasRestoreJobSensor(task_id="t", cluster_name="a b", restore_job_id=JOB, deferrable=True), "cluster_name"),
    ("download: bad job id", lambda d: AtlasDownloadSnapshotOperator(task_id="t", destination=str(d), restore_job_id="j", cluster_name=C), "restore_job_id"),
    ("create: templated cluster type renders to flex for a download restore", lambda _: rendered(AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, cluster_type="{{ params.kind }}"), cluster_type="flex"), "delivery_type='download' cannot be honoured on flex"),
    ("create: templated snapshot renders to a mapping without an id", lambda _: rendered(AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, snapshot_id="{{ params.snapshot }}"), snapshot_id={"status": "completed"}), "without a 'snapshot_id' key"),
    ("cancel: flex cluster type is refused before any request", lambda _: AtlasCancelRestoreJobOperator(task_id="t", cluster_name=C, restore_job_id=JOB, cluster_type="flex"), "cannot be cancelled: Cluster0 is a flex cluster"),
]  # fmt: skip


def rendered(operator: Any, **fields: Any) -> Any:
    """Return ``operator`` with templated fields set as Airflow would have rendered them."""
    for name, value in fields.items():
        setattr(operator, name, value)
    return operator


@pytest.mark.parametrize(
    ("case", "build", "parameter"), TASKS_AT_RUN_TIME, ids=[case for case, _, _ in TASKS_AT_RUN_TIME]
)
def test_bad_templated_values_fail_before_any_request(
    atlas_emulator, emulator_connection, tmp_path, case, build, parameter
):
    task_instance = mock.Mock()

    with pytest.raises(AtlasInputError, match=parameter):
        build(tmp_path).execute({"ti": task_instance})

    assert atlas_emulator.stats.count() == 0
    assert task_instance.xcom_push.call_args_list == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("task_id", "operator", "arguments", "parameter"),
    BAD_INPUT_TASKS,
    ids=[task_id for task_id, _, _, _ in BAD_INPUT_TASKS],
)
def test_operator_refuses_a_bad_value_before_any_request_or_xcom(
    atlas_emulator, emulator_connection, task_id, operator, arguments, parameter
):
    task_instance = mock.Mock()

    with pytest.raises(AtlasInputError, match=parameter) as caught:
        operator(task_id=task_id, **arguments).execute({"ti": task_instance})

    assert "must" in str(caught.value) or "needs" in str(caught.value)
    assert task_instance.xcom_push.call_args_list == []
    assert atlas_emulator.stats.count() == 0


@pytest.mark.timeout(300)
def test_bad_values_fail_their_tasks_in_a_dag_run_leaving_no_xcom(
    airflow_database, atlas_emulator, emulator_connection
):
    from airflow_provider_atlas_restore.testing.dag_runs import run_dag, stored_xcom

    result = run_dag(TEST_DAGS, "test_atlas_bad_input")

    assert result.state == "failed"
    assert result.task_states == {task_id: "failed" for task_id, _, _, _ in BAD_INPUT_TASKS}
    # Airflow 3 itself stores each extra link's XCom when a task ends (finalize() in the task
    # runner), holding what get_link() returned: "" when the task stored no link.
    left = {(stored.task_id, stored.key, stored.value) for stored in stored_xcom("test_atlas_bad_input")}
    assert {(key, value) for _, key, value in left} <= {(LINK_XCOM_KEY, "")}
    assert atlas_emulator.stats.count() == 0


def test_unwritable_destination_fails_before_any_request(atlas_emulator, emulator_connection, tmp_path):
    from airflow_provider_atlas_restore.exceptions import AtlasDestinationError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    operator = AtlasDownloadSnapshotOperator(
        task_id="t", destination=str(blocker / "sub"), restore_job_id=JOB, cluster_name=C
    )

    with pytest.raises(AtlasDestinationError, match="a-file"):
        operator.execute({})
    assert atlas_emulator.stats.count() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_plain_http_link_is_refused_before_any_download(atlas_emulator, monkeypatch, tmp_path):
    from airflow_provider_atlas_restore.exceptions import InsecureDownloadLinkError

    seed = atlas_emulator.seed
    connection = atlas_emulator.connection(group_id=seed.group_id)
    connection["extra"]["allow_http_downloads"] = False  # the emulator's connections allow them
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
    job = atlas_emulator.add_restore_job(seed.group_id, seed.cluster_name, ready_after=0)
    operator = AtlasDownloadSnapshotOperator(
        task_id="t", destination=str(tmp_path), restore_job_id=job["id"], cluster_name=C
    )

    with pytest.raises(InsecureDownloadLinkError, match="https"):
        operator.execute({})
    assert atlas_emulator.stats.count(route="download") == 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "rule"),
    [
        (lambda h: h.list_restore_jobs(C, max_items=-1), "max_items=-1 is out of range: it must be an integer of at least 0."),
    ],
)  # fmt: skip
def test_range_errors_read_as_a_sentence(atlas_emulator, emulator_connection, call, rule):
    with pytest.raises(AtlasInputError) as caught:
        call(AtlasHook())

    assert str(caught.value) == rule


# Issue 18: the export and collection-restore tasks refuse what is known when the DAG is parsed.
from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator  # noqa: E402
from airflow_provider_atlas_restore.operators.restore_collections import (  # noqa: E402
    AtlasRestoreCollectionsOperator,
)

_COLLECTIONS = {"task_id": "t", "cluster_name": C, "target_cluster_name": "T-1", "snapshot_id": SNAP}
BACKUP_TASKS_AT_PARSE_TIME: list[tuple[str, Callable[[], Any], str]] = [
    ("export: no bucket", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C), "export_bucket_id"),
    ("export: two buckets", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, export_bucket_id=SNAP, bucket_name="b-1"), "bucket_name"),
    ("export: flex cluster type", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, bucket_name="b-1", cluster_type="flex"), "flex"),
    ("export: custom data not text", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, bucket_name="b-1", custom_data={"k": 1}), "custom_data"),
    ("export: custom data empty key", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, bucket_name="b-1", custom_data={"": "v"}), "custom_data"),
    ("export: poll interval 0", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, bucket_name="b-1", poll_interval=0), "poll_interval"),
    ("collections: overwrite not confirmed", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.o"], write_strategy="OVERWRITE_EXISTING"), "confirm_overwrite"),
    ("collections: unknown write strategy", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.o"], write_strategy="MERGE"), "write_strategy"),
    ("collections: unknown index strategy", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.o"], index_strategy="SOME"), "index_strategy"),
    ("collections: nothing to restore", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS), "collections"),
    ("collections: snapshot and moment", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.o"], point_in_time_utc_seconds=1786332905), "point_in_time_utc_seconds"),
    ("collections: no source", lambda: AtlasRestoreCollectionsOperator(task_id="t", cluster_name=C, target_cluster_name="T-1", collections=["s.o"]), "snapshot_id"),
    ("collections: collection without database", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["orders"]), r"collections\[0\].source"),
    ("collections: system collection", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.system.users"]), "collections"),
    ("collections: dollar in a collection", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.a$b"]), "collections"),
    ("collections: bad target namespace", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=[{"source": "s.o", "target": "bad"}]), r"collections\[0\].target"),
    ("collections: unknown mapping key", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=[{"src": "s.o"}]), "collections"),
    ("collections: database with a dot", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, databases=["a.b"]), r"databases\[0\].source"),
    ("collections: database twice", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, databases=["a", "a"]), "databases"),
    ("collections: 101 collections", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=[f"s.c{i}" for i in range(101)]), "collections"),
    ("collections: bad suffix", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["s.o"], database_suffix="a/b"), "database_suffix"),
    ("collections: bad target cluster", lambda: AtlasRestoreCollectionsOperator(**{**_COLLECTIONS, "target_cluster_name": "a b"}, collections=["s.o"]), "target_cluster_name"),
    ("collections: moment before 2008", lambda: AtlasRestoreCollectionsOperator(task_id="t", cluster_name=C, target_cluster_name="T-1", point_in_time_utc_seconds=5, collections=["s.o"]), "point_in_time_utc_seconds"),
    ("collections: bad snapshot", lambda: AtlasRestoreCollectionsOperator(**{**_COLLECTIONS, "snapshot_id": "s"}, collections=["s.o"]), "snapshot_id"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "parameter"),
    BACKUP_TASKS_AT_PARSE_TIME,
    ids=[case for case, _, _ in BACKUP_TASKS_AT_PARSE_TIME],
)
def test_bad_export_and_collection_restore_arguments_fail_when_the_dag_is_parsed(case, build, parameter):
    with pytest.raises(AtlasInputError, match=parameter):
        build()


BACKUP_TASKS_AT_RUN_TIME: list[tuple[str, Callable[[], Any], str]] = [
    ("export: templated bucket id renders badly", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, export_bucket_id="b"), "export_bucket_id"),
    ("export: flex cluster type renders", lambda: AtlasExportSnapshotOperator(task_id="t", cluster_name=C, bucket_name="b-1", cluster_type="{{ x }}"), "cluster_type"),
    ("collections: templated namespaces render badly", lambda: AtlasRestoreCollectionsOperator(**_COLLECTIONS, collections=["{{ x }}"]), "collections"),
    ("collections: templated moment renders as text", lambda: AtlasRestoreCollectionsOperator(task_id="t", cluster_name=C, target_cluster_name="T-1", point_in_time_utc_seconds="{{ x }}", collections=["s.o"]), "point_in_time_utc_seconds"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "parameter"),
    BACKUP_TASKS_AT_RUN_TIME,
    ids=[case for case, _, _ in BACKUP_TASKS_AT_RUN_TIME],
)
def test_bad_templated_export_and_collection_restore_values_fail_before_any_request(
    atlas_emulator, emulator_connection, case, build, parameter
):
    task_instance = mock.Mock()

    with pytest.raises(AtlasInputError, match=parameter):
        build().execute({"ti": task_instance})  # never rendered: the template text is the value

    assert atlas_emulator.stats.count() == 0
    assert task_instance.xcom_push.call_args_list == []
