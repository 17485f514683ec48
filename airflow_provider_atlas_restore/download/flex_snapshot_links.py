"""The link of a flex cluster's snapshot: ``POST backup/download`` answers a ``snapshotUrl``, asked again when it expires."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_atlas_restore.api.validation import validate_object_id
from airflow_provider_atlas_restore.download.file_names import name_flex_snapshot_file
from airflow_provider_atlas_restore.download.snapshot_files import DownloadLink
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError
from airflow_provider_atlas_restore.masking import mask_link
from airflow_provider_atlas_restore.models.cluster_kind import NON_FLEX_CLUSTER_IN_FLEX_API, ClusterKind
from airflow_provider_atlas_restore.models.timestamps import parse_timestamp

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

__all__ = ["LATEST", "FlexSnapshotLinks"]

#: The ``snapshot_id`` that means the newest completed flex snapshot.
LATEST = "latest"
_OBJECT_ID = re.compile(r"^[a-f0-9]{24}$")


class FlexSnapshotLinks:
    """
    The one file of a flex snapshot: its ``snapshotUrl``, asked for with ``POST backup/download``.

    A ``snapshotUrl`` is a bearer link valid four hours: it is registered with the secret masker
    as soon as it arrives, and when the download server refuses it (expired mid-download) a new
    one is asked for, so the download resumes where it was.

    :param hook: the Atlas hook.
    :param log: the task's logger.
    :param cluster_name: the flex cluster (validated).
    :param group_id: the project id (validated), or ``None`` for the connection's.
    :param snapshot_id: a snapshot id (validated) or ``"latest"``.
    :param cluster_type: ``"auto"`` (the cluster is checked to be flex, once) or ``"flex"``.
    :param file_name_template: the task's ``file_name_template``.
    """

    def __init__(
        self,
        hook: AtlasHook,
        log: logging.Logger | Any,
        *,
        cluster_name: str,
        group_id: str | None,
        snapshot_id: str,
        cluster_type: str,
        file_name_template: str | None,
    ) -> None:
        self.hook = hook
        self.log = log
        self.cluster_name = cluster_name
        self.group_id = group_id
        self.snapshot_id = snapshot_id
        self.cluster_type = cluster_type
        self.file_name_template = file_name_template
        #: When the snapshot was finished (``snapshotFinishedDate`` of the download answer), once asked.
        self.snapshot_time: datetime | None = None

    def links(self) -> list[DownloadLink]:
        """Check the cluster is flex, choose the snapshot, and ask Atlas for its ``snapshotUrl``."""
        kind = self.hook.cluster_kind(self.cluster_name, self.group_id, cluster_type=self.cluster_type)
        if kind is not ClusterKind.FLEX:
            raise AirflowFailException(
                f"Cluster {self.cluster_name} is a {kind.value} cluster, and snapshot_id downloads a "
                "flex cluster's snapshot. For a dedicated cluster create a download restore job "
                "(AtlasCreateRestoreJobOperator, delivery_type='download') and give its "
                "restore_job_id, or the sensor's XCom value as restore_job."
            )
        if self.snapshot_id == LATEST:
            self.snapshot_id = self._latest()
        return [self._ask()]

    def renew(self, link: DownloadLink) -> DownloadLink | None:
        """
        Ask ``backup/download`` again for a fresh ``snapshotUrl`` of the same snapshot.

        :param link: the file whose link the download server refused.
        """
        return self._ask()

    def _latest(self) -> str:
        """Return the id of the newest completed flex snapshot (the list's order is not relied on)."""
        snapshot = self.hook.latest_completed_snapshot(
            self.cluster_name, self.group_id, cluster_type=ClusterKind.FLEX.value
        )
        snapshot_id = snapshot.get("id")
        if not isinstance(snapshot_id, str) or not _OBJECT_ID.fullmatch(snapshot_id):
            raise AtlasResponseError(
                status=200,
                method="GET",
                path=f"flexClusters/{self.cluster_name}/backup/snapshots",
                reason="OK",
                detail="the newest completed snapshot has no valid id. Nothing was downloaded",
            )
        return snapshot_id

    def _ask(self) -> DownloadLink:
        """``POST backup/download`` for the snapshot; return its link, the ``snapshotUrl`` masked first."""
        snapshot_id = validate_object_id(self.snapshot_id, "snapshot_id")
        where = f"snapshot {snapshot_id} of flex cluster {self.cluster_name}"
        try:
            answer = self.hook.download_flex_snapshot(self.cluster_name, snapshot_id, self.group_id)
        except AtlasApiError as error:
            if error.error_code == NON_FLEX_CLUSTER_IN_FLEX_API:
                raise AirflowFailException(
                    f"Cluster {self.cluster_name} is not a flex cluster (Atlas: {NON_FLEX_CLUSTER_IN_FLEX_API}): "
                    "snapshot_id downloads a flex snapshot. For a dedicated cluster give the "
                    "restore_job_id of a download restore job instead."
                ) from None
            raise
        url = answer.get("snapshotUrl") if isinstance(answer, Mapping) else None
        if isinstance(url, str) and url:
            mask_link(url)  # before anything else may log it
        else:
            raise AtlasResponseError(
                status=200,
                method="POST",
                path=f"flexClusters/{self.cluster_name}/backup/download",
                reason="OK",
                detail=f"the answer for {where} has no snapshotUrl to download. Nothing was downloaded",
            )
        self.snapshot_time = parse_timestamp(answer.get("snapshotFinishedDate")) or self.snapshot_time
        job_id = answer.get("id")
        return name_flex_snapshot_file(
            url,
            snapshot_id=snapshot_id,
            cluster_name=self.cluster_name,
            restore_job_id=job_id if isinstance(job_id, str) and _OBJECT_ID.fullmatch(job_id) else None,
            file_name_template=self.file_name_template,
        )
