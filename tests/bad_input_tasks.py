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
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor

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

# The snapshot export (issue 18): names and ids checked once rendered, before any request.
from airflow_provider_atlas_restore.operators.export_snapshot import AtlasExportSnapshotOperator  # noqa: E402
from airflow_provider_atlas_restore.operators.restore_collections import (  # noqa: E402
    AtlasRestoreCollectionsOperator,
)

EXPORT = {"cluster_name": C, "bucket_name": "exports-bucket"}
for kind, value in {**NOT_TEXT, "none": None, "space": "a b"}.items():
    _add(
        f"export_cluster_{kind}",
        AtlasExportSnapshotOperator,
        {**EXPORT, "cluster_name": value},
        "cluster_name",
    )
for kind, value in {
    **NOT_TEXT,
    "none": None,
    "short": "s",
    "latest_typo": "Latest",
    "no_id": {"id": SNAP},
}.items():
    _add(
        f"export_snapshot_{kind}",
        AtlasExportSnapshotOperator,
        {**EXPORT, "snapshot_id": value},
        "snapshot_id",
    )
for kind, value in {**NOT_TEXT, "short": "b", "upper": SNAP.upper()}.items():
    _add(
        f"export_bucket_id_{kind}",
        AtlasExportSnapshotOperator,
        {"cluster_name": C, "export_bucket_id": value},
        "export_bucket_id",
    )
for kind, value in {**NOT_TEXT, **FALSY, "short": "g"}.items():
    _add(f"export_group_{kind}", AtlasExportSnapshotOperator, {**EXPORT, "group_id": value}, "group_id")
for kind, value in {"int": 5, "list": [["k", "v"]], "text": "k=v"}.items():
    _add(
        f"export_custom_data_{kind}",
        AtlasExportSnapshotOperator,
        {**EXPORT, "custom_data": value},
        "custom_data",
    )

# The collection-level restore (issue 18): the source cluster and projects, checked once rendered.
COLLECTIONS = {
    "cluster_name": C,
    "target_cluster_name": "T-1",
    "snapshot_id": SNAP,
    "collections": ["sales.orders"],
}
for kind, value in {**NOT_TEXT, "none": None, "space": "a b"}.items():
    _add(
        f"collections_cluster_{kind}",
        AtlasRestoreCollectionsOperator,
        {**COLLECTIONS, "cluster_name": value},
        "cluster_name",
    )
for kind, value in {**NOT_TEXT, **FALSY, "short": "g"}.items():
    _add(
        f"collections_group_{kind}",
        AtlasRestoreCollectionsOperator,
        {**COLLECTIONS, "group_id": value},
        "group_id",
    )
    _add(
        f"collections_target_group_{kind}",
        AtlasRestoreCollectionsOperator,
        {**COLLECTIONS, "target_group_id": value},
        "target_group_id",
    )

# Flex clusters: a cluster_type that is not 'auto', 'dedicated' or 'flex', on every task that takes one.
BAD_CLUSTER_TYPES: dict[str, Any] = {
    "serverless": "serverless",
    "upper": "FLEX",
    "int": 1,
    "none": None,
    "empty": "",
}
for kind, value in BAD_CLUSTER_TYPES.items():
    _add(
        f"list_cluster_type_{kind}",
        AtlasListRestoreJobsOperator,
        {"cluster_name": C, "cluster_type": value},
        "cluster_type",
    )
    _add(
        f"create_cluster_type_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, "cluster_type": value},
        "cluster_type",
    )
    _add(
        f"cancel_cluster_type_{kind}",
        AtlasCancelRestoreJobOperator,
        {"cluster_name": C, "restore_job_id": JOB, "cluster_type": value},
        "cluster_type",
    )
    for mode in ("poke", "deferrable"):
        _add(
            f"sensor_{mode}_cluster_type_{kind}",
            AtlasRestoreJobSensor,
            {
                "cluster_name": C,
                "restore_job_id": JOB,
                "cluster_type": value,
                "deferrable": mode == "deferrable",
            },
            "cluster_type",
        )
# A take-snapshot task's output (what its XComArg renders) without a usable snapshot id.
BAD_SNAPSHOT_OUTPUTS: dict[str, Any] = {
    "empty": {},
    "no_id": {"cluster_name": C, "status": "completed"},
    "id_none": {"snapshot_id": None},
    "id_short": {"snapshot_id": "s"},
    "id_latest": {"snapshot_id": "latest"},
    "as_text": f"{{'snapshot_id': '{SNAP}'}}",
}
for kind, value in BAD_SNAPSHOT_OUTPUTS.items():
    _add(
        f"create_snapshot_output_{kind}",
        AtlasCreateRestoreJobOperator,
        {"cluster_name": C, "snapshot_id": value},
        "snapshot_id",
    )
    _add(
        f"download_flex_snapshot_output_{kind}",
        AtlasDownloadSnapshotOperator,
        {**FLEX_DOWNLOAD, "snapshot_id": value},
        "snapshot_id",
    )
_add(
    "create_snapshot_output_of_another_cluster",
    AtlasCreateRestoreJobOperator,
    {"cluster_name": C, "snapshot_id": {"snapshot_id": SNAP, "cluster_name": "Other0"}},
    "snapshot_id",
)
_add(
    "download_flex_snapshot_output_of_another_cluster",
    AtlasDownloadSnapshotOperator,
    {**FLEX_DOWNLOAD, "snapshot_id": {"snapshot_id": SNAP, "cluster_name": C}},
    "snapshot_id",
)
