"""
Bad input, table-driven: every public hook method, operator, sensor and trigger parameter.

Each bad value gives a clear error (naming the parameter or the rule) before any request is
sent: the emulator counts zero requests, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
    AtlasCancelRestoreJobOperator,
    AtlasCreateRestoreJobOperator,
)
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor
from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

C = "Cluster0"
JOB = "6a7948342c88faeba59eb866"
SNAP = "6a79468a2c88faeba59de489"
GROUP = "6a793f6b2c88faeba59bae37"
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
    ("create: overwrite not confirmed", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, delivery_type="automated", **TARGET), "confirm_overwrite"),
    ("create: unknown delivery type", lambda: AtlasCreateRestoreJobOperator(task_id="t", cluster_name=C, delivery_type="tape"), "delivery_type"),
    ("download: nothing to download", lambda: AtlasDownloadSnapshotOperator(task_id="t", destination="/tmp/x"), "restore_job"),
    ("trigger: bad job id", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id=GROUP, cluster_name=C, restore_job_id="x"), "restore_job_id"),
    ("trigger: bad cluster", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id=GROUP, cluster_name="a b", restore_job_id=JOB), "cluster_name"),
    ("trigger: bad group", lambda: AtlasRestoreJobTrigger(atlas_conn_id="c", group_id="g", cluster_name=C, restore_job_id=JOB), "group_id"),
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
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "parameter"), TASKS_AT_RUN_TIME, ids=[case for case, _, _ in TASKS_AT_RUN_TIME]
)
def test_bad_templated_values_fail_before_any_request(
    atlas_emulator, emulator_connection, tmp_path, case, build, parameter
):
    with pytest.raises(AtlasInputError, match=parameter):
        build(tmp_path).execute({})

    assert atlas_emulator.stats.count() == 0
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_fails_before_any_request(atlas_emulator, emulator_connection, tmp_path):
    from airflow_provider_atlas_restore.download_destination import AtlasDestinationError

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
    from airflow_provider_atlas_restore.snapshot_download import InsecureDownloadLinkError

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
