"""What ``if_exists`` does with files already at their final names, decided before any link is spent."""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_atlas_restore.download.destination import DownloadDestination
from airflow_provider_atlas_restore.download.snapshot_files import DownloadLink, DownloadResult
from airflow_provider_atlas_restore.exceptions import AtlasDestinationExistsError

__all__ = ["IF_EXISTS_MODES", "files_kept"]

#: What ``if_exists`` accepts.
IF_EXISTS_MODES = ("replace", "skip_if_same", "fail")


def files_kept(
    destination: DownloadDestination, links: list[DownloadLink], if_exists: str, log: logging.Logger | Any
) -> dict[str, DownloadResult]:
    """
    Apply ``if_exists`` to the files already there: fail, or return those kept, by file name.

    :param destination: the prepared destination.
    :param links: the files to download.
    :param if_exists: ``"replace"``, ``"skip_if_same"`` or ``"fail"``.
    :param log: the task's logger.
    """
    if if_exists == "replace":
        return {}
    kept: dict[str, DownloadResult] = {}
    for link in links:
        stored = destination.stored(link.file_name)
        if stored is None:
            continue
        if if_exists == "fail":
            raise AtlasDestinationExistsError(
                f"{stored.uri} already exists and if_exists='fail': nothing was downloaded. Remove "
                "it, or use if_exists='replace' or 'skip_if_same'."
            )
        origin = link.origin
        if origin is not None and origin.matches(stored) and stored.sha256 is not None:
            log.info(
                "Keeping %s: it already holds snapshot %s (%d bytes, sha256 %s); not downloading it again",
                stored.uri,
                origin.snapshot_id,
                stored.bytes,
                stored.sha256,
            )
            kept[link.file_name] = DownloadResult(
                stored.uri,
                stored.bytes,
                stored.sha256,
                link.replica_set,
                kept=True,
                snapshot_id=origin.snapshot_id,
            )
        else:
            log.info(
                "%s exists but its metadata does not show it whole from snapshot %s (recorded: %s): "
                "replacing it",
                stored.uri,
                origin.snapshot_id if origin else "(unknown)",
                {key: value for key, value in stored.metadata.items() if key.startswith(("atlas-", "sha"))}
                or "nothing",
            )
    return kept
