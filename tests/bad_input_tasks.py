"""Tasks whose inputs are bad once rendered: each must fail before any request and leave no XCom.

Shared by ``tests/test_bad_input.py`` (each task's ``execute`` on its own) and the DAG
``tests/dags/atlas_bad_input.py`` (all of them in one ``dag.test()`` run through Airflow).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore.operators.download import AtlasDownloadSnapshotOperator
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import (
    AtlasCancelRestoreJobOperator,
    AtlasCreateRestoreJobOperator,
)
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator

C = "Cluster0"
JOB = "6a7948342c88faeba59eb866"
SNAP = "6a79468a2c88faeba59de489"
GROUP = "6a793f6b2c88faeba59bae37"
#: Values of the wrong type for a name or an id; ``None`` is added where it is not a default.
NOT_TEXT: dict[str, Any] = {"int": 5, "list": [GROUP], "bytes": GROUP.encode()}
#: Values that would silently mean "the connection's project" if only truthiness were checked.
FALSY: dict[str, Any] = {"zero": 0, "empty_list": [], "empty_bytes": b""}
AUTOMATED = {"delivery_type": "automated", "confirm_overwrite": True, "snapshot_id": SNAP}
POINT_IN_TIME = {
    "delivery_type": "pointInTime",
    "confirm_overwrite": True,
    "target_cluster_name": "T-1",
    "target_group_id": GROUP,
}

#: ``(task_id, operator class, arguments, the parameter the error names)``.
BAD_INPUT_TASKS: list[tuple[str, type[Any], dict[str, Any], str]] = []


def _add(task_id: str, operator: type[Any], arguments: dict[str, Any], parameter: str) -> None:
    BAD_INPUT_TASKS.append((task_id, operator, arguments, parameter))


for kind, value in {**NOT_TEXT, "none": None, "space": "a b"}.items():
    _add(f"list_cluster_{kind}", AtlasListRestoreJobsOperator, {"cluster_name": value}, "cluster_name")
    _add(
        f"create_latest_cluster_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": value},
        "cluster_name",
    )
    _add(
        f"create_cluster_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": value, "snapshot_id": SNAP},
        "cluster_name",
    )
    _add(
        f"cancel_cluster_{kind}",
        AtlasCancelRestoreJobOperator,
        {"cluster_name": value, "restore_job_id": JOB},
        "cluster_name",
    )
    _add(
        f"cancel_job_{kind}",
        AtlasCancelRestoreJobOperator,
        {"cluster_name": C, "restore_job_id": value},
        "restore_job_id",
    )
    _add(
        f"create_snapshot_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, "snapshot_id": value},
        "snapshot_id",
    )
    _add(
        f"create_target_cluster_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, **AUTOMATED, "target_cluster_name": value, "target_group_id": GROUP},
        "target_cluster_name",
    )
    _add(
        f"create_target_group_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, **AUTOMATED, "target_cluster_name": "T-1", "target_group_id": value},
        "target_group_id",
    )
for kind, value in {**NOT_TEXT, **FALSY, "short": "g"}.items():
    _add(
        f"list_group_{kind}", AtlasListRestoreJobsOperator, {"cluster_name": C, "group_id": value}, "group_id"
    )
    _add(
        f"create_group_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, "snapshot_id": SNAP, "group_id": value},
        "group_id",
    )
    _add(
        f"cancel_group_{kind}",
        AtlasCancelRestoreJobOperator,
        {"cluster_name": C, "restore_job_id": JOB, "group_id": value},
        "group_id",
    )
for kind, value in {**NOT_TEXT, "none": None, "empty": ""}.items():
    _add(
        f"list_conn_{kind}",
        AtlasListRestoreJobsOperator,
        {"cluster_name": C, "atlas_conn_id": value},
        "atlas_conn_id",
    )
    _add(
        f"create_conn_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, "snapshot_id": SNAP, "atlas_conn_id": value},
        "atlas_conn_id",
    )
    _add(
        f"cancel_conn_{kind}",
        AtlasCancelRestoreJobOperator,
        {"cluster_name": C, "restore_job_id": JOB, "atlas_conn_id": value},
        "atlas_conn_id",
    )
for kind, value in {
    "list": [1786332905],
    "bytes": b"1786332905",
    "float": 1786332905.5,
    "word": "soon",
}.items():
    _add(
        f"create_moment_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, **POINT_IN_TIME, "point_in_time_utc_seconds": value},
        "point_in_time_utc_seconds",
    )
    _add(
        f"create_oplog_inc_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, **POINT_IN_TIME, "oplog_ts": 1786332905, "oplog_inc": value},
        "oplog_inc",
    )

# The flex snapshot download: values checked once rendered, before the destination or any request.
FLEX_DOWNLOAD = {"cluster_name": "Flex0", "destination": "/tmp/atlas-bad-input-never-written"}
for kind, value in {**NOT_TEXT, "short": "s", "upper": SNAP.upper(), "latest_typo": "Latest"}.items():
    _add(
        f"download_flex_snapshot_{kind}",
        AtlasDownloadSnapshotOperator,
        {**FLEX_DOWNLOAD, "snapshot_id": value},
        "snapshot_id",
    )
for kind, value in {**NOT_TEXT, "space": "a b", "slash": "a/b"}.items():
    _add(
        f"download_flex_cluster_{kind}",
        AtlasDownloadSnapshotOperator,
        {**FLEX_DOWNLOAD, "snapshot_id": SNAP, "cluster_name": value},
        "cluster_name",
    )
for kind, value in {**NOT_TEXT, **FALSY, "short": "g"}.items():
    _add(
        f"download_flex_group_{kind}",
        AtlasDownloadSnapshotOperator,
        {**FLEX_DOWNLOAD, "snapshot_id": "latest", "group_id": value},
        "group_id",
    )
for kind, value in {"int": 5, "empty": ""}.items():
    _add(
        f"download_flex_conn_{kind}",
        AtlasDownloadSnapshotOperator,
        {**FLEX_DOWNLOAD, "snapshot_id": SNAP, "atlas_conn_id": value},
        "atlas_conn_id",
    )

# On-demand snapshots: take and delete, values checked once rendered, before any request.
from airflow_provider_atlas_restore.operators.delete_snapshot import AtlasDeleteSnapshotOperator  # noqa: E402
from airflow_provider_atlas_restore.operators.on_demand_snapshots import AtlasTakeSnapshotOperator  # noqa: E402

for kind, value in {**NOT_TEXT, "none": None, "space": "a b"}.items():
    _add(f"take_snapshot_cluster_{kind}", AtlasTakeSnapshotOperator, {"cluster_name": value}, "cluster_name")
    _add(
        f"delete_snapshot_cluster_{kind}",
        AtlasDeleteSnapshotOperator,
        {"cluster_name": value, "snapshot_id": SNAP},
        "cluster_name",
    )
for kind, value in {"int": 5, "zero": 0, "short": "g"}.items():
    _add(
        f"take_snapshot_group_{kind}",
        AtlasTakeSnapshotOperator,
        {"cluster_name": C, "group_id": value},
        "group_id",
    )
    _add(
        f"delete_snapshot_group_{kind}",
        AtlasDeleteSnapshotOperator,
        {"cluster_name": C, "snapshot_id": SNAP, "group_id": value},
        "group_id",
    )
for kind, value in {
    "int": 5,
    "short": "s",
    "upper": SNAP.upper(),
    "mapping_without_id": {"id": SNAP},
    "mapping_with_bad_id": {"snapshot_id": "s"},
}.items():
    _add(
        f"delete_snapshot_id_{kind}",
        AtlasDeleteSnapshotOperator,
        {"cluster_name": C, "snapshot_id": value},
        "snapshot_id",
    )
for kind, value in {"too_long": "x" * 10_000, "int": 5}.items():
    _add(
        f"take_snapshot_description_{kind}",
        AtlasTakeSnapshotOperator,
        {"cluster_name": C, "description": value},
        "description",
    )
for kind, value in {"zero": 0, "word": "two", "list": [2]}.items():
    _add(
        f"take_snapshot_retention_{kind}",
        AtlasTakeSnapshotOperator,
        {"cluster_name": C, "retention_in_days": value},
        "retention_in_days",
    )
for kind, value in {"int": 5, "empty": ""}.items():
    _add(
        f"take_snapshot_conn_{kind}",
        AtlasTakeSnapshotOperator,
        {"cluster_name": C, "atlas_conn_id": value},
        "atlas_conn_id",
    )
    _add(
        f"delete_snapshot_conn_{kind}",
        AtlasDeleteSnapshotOperator,
        {"cluster_name": C, "snapshot_id": SNAP, "atlas_conn_id": value},
        "atlas_conn_id",
    )
_add(
    "take_snapshot_cluster_type",
    AtlasTakeSnapshotOperator,
    {"cluster_name": C, "cluster_type": "shared"},
    "cluster_type",
)
