"""How the download operator names snapshot files: one per link, every part of a name checked."""

from __future__ import annotations

import re

from airflow_provider_atlas_restore.api.validation import validate_object_id
from airflow_provider_atlas_restore.download.destination import (
    DownloadLink,
    SnapshotOrigin,
    is_safe_file_name,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError, AtlasResponseError
from airflow_provider_atlas_restore.models import RestoreJobResult

__all__ = ["name_flex_snapshot_file", "name_snapshot_files"]

#: A replica set name that may become part of a file name: no "/", "..", NUL or control character.
_SAFE_REPLICA_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
#: What a value recorded as object metadata may hold (S3 user metadata is ASCII).
_METADATA_VALUE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _metadata_value(value: str | None) -> str | None:
    """Return ``value`` if it may be recorded as object metadata as it is, else ``None``."""
    return value if isinstance(value, str) and _METADATA_VALUE.fullmatch(value) else None


def name_snapshot_files(
    job: RestoreJobResult,
    *,
    restore_job_id: str | None,
    cluster_name: str | None,
    file_name_template: str | None,
    from_server: bool = False,
) -> list[DownloadLink]:
    """
    Name one file per link: per replica set on a sharded cluster, else one for the job.

    :param job: the restore job, with its links.
    :param restore_job_id: the task's ``restore_job_id``, when the job names none.
    :param cluster_name: the task's ``cluster_name``, when the job names none.
    :param file_name_template: the task's ``file_name_template``, or ``None`` for the default names.
    :param from_server: the job came from the Atlas API (a bad value is a server fault), not XCom.
    """
    job_id = job.restore_job_id or restore_job_id
    if not job_id:
        raise AtlasInputError("restore_job has no restore_job_id: it is needed to name the files.")
    job_id = validate_object_id(job_id, "restore_job_id")  # it becomes part of each file name
    if job.components:
        pairs = [(c.replica_set_name, c.download_url or "") for c in job.components]
    else:
        pairs = [(None, url) for url in job.delivery_urls]
    links: list[DownloadLink] = []
    for index, (replica_set, url) in enumerate(pairs, start=1):
        if replica_set is not None:
            _check_replica_set(job, job_id, replica_set, index, from_server=from_server)
        name = _file_name(
            job, job_id, replica_set, index, cluster_name, file_name_template, several=len(pairs) > 1
        )
        origin = SnapshotOrigin(
            restore_job_id=job_id,
            snapshot_id=_metadata_value(job.snapshot_id),
            cluster_name=_metadata_value(job.cluster_name or cluster_name),
            replica_set=replica_set,
        )
        links.append(DownloadLink(url=url, file_name=name, replica_set=replica_set, origin=origin))
    names = [link.file_name for link in links]
    if len(set(names)) != len(names):
        raise AtlasInputError(
            f"file_name_template={file_name_template!r} gives several files the same name "
            f"({', '.join(names)}): include {{replica_set}} or {{index}}."
        )
    return links


def _check_replica_set(
    job: RestoreJobResult, job_id: str, replica_set: str, index: int, *, from_server: bool
) -> None:
    """Refuse a replica set name that is not a safe part of a file name, blaming where it came from."""
    if len(replica_set) <= 128 and _SAFE_REPLICA_SET_NAME.fullmatch(replica_set):
        return
    why = (
        f"the replica set name of component {index} is not a safe part of a file name: only "
        "ASCII letters, digits, '_', '-' and single dots between them are accepted"
    )
    if from_server:
        raise AtlasResponseError(
            status=200,
            method="GET",
            path=f"clusters/{job.cluster_name}/backup/restoreJobs/{job_id}",
            reason="OK",
            detail=f"{why}. Nothing was downloaded",
        )
    raise AtlasInputError(f"restore_job: {why}. Nothing was downloaded.")


def _file_name(
    job: RestoreJobResult,
    job_id: str,
    replica_set: str | None,
    index: int,
    cluster_name: str | None,
    template: str | None,
    *,
    several: bool,
) -> str:
    safe_set = replica_set or ""
    if template is None:
        suffix = f"-{safe_set}" if safe_set else (f"-{index}" if several else "")
        return f"restore-{job_id}{suffix}.tar.gz"
    return _fill_template(
        template,
        restore_job_id=job_id,
        replica_set=safe_set,
        index=index,
        cluster_name=job.cluster_name or cluster_name or "",
        snapshot_id=job.snapshot_id or "",
    )


def name_flex_snapshot_file(
    url: str,
    *,
    snapshot_id: str,
    cluster_name: str,
    restore_job_id: str | None,
    file_name_template: str | None,
) -> DownloadLink:
    """
    Name the one file of a flex snapshot: ``snapshot-<snapshot id>.tgz`` by default.

    :param url: the snapshot's ``snapshotUrl`` (a secret bearer link).
    :param snapshot_id: the snapshot asked for (validated again here: it becomes the file name).
    :param cluster_name: the flex cluster.
    :param restore_job_id: the id of the job Atlas made for the download, when valid, else ``None``.
    :param file_name_template: the task's ``file_name_template``, or ``None`` for the default name.
    """
    snapshot_id = validate_object_id(snapshot_id, "snapshot_id")
    if file_name_template is None:
        name = f"snapshot-{snapshot_id}.tgz"
    else:
        name = _fill_template(
            file_name_template,
            restore_job_id=restore_job_id or "",
            replica_set="",
            index=1,
            cluster_name=cluster_name,
            snapshot_id=snapshot_id,
        )
    origin = SnapshotOrigin(
        restore_job_id=restore_job_id,
        snapshot_id=snapshot_id,
        cluster_name=_metadata_value(cluster_name),
    )
    return DownloadLink(url=url, file_name=name, origin=origin)


def _fill_template(template: str, **values: str | int) -> str:
    """Fill ``file_name_template`` with ``values`` and check the result is a safe file name."""
    try:
        name = template.format(**values)
    except (KeyError, IndexError, ValueError) as error:
        raise AtlasInputError(
            f"file_name_template={template!r} cannot be filled: {error!r}. Use "
            "{restore_job_id}, {replica_set}, {index}, {cluster_name} and {snapshot_id}."
        ) from None
    if not is_safe_file_name(name):
        raise AtlasInputError(
            f"file_name_template={template!r} gives {name!r}: it must be a plain "
            "file name, with no folder part, of ASCII letters, digits, '.', '_' and '-', not "
            "starting with a dot."
        )
    return name
