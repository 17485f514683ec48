"""The links of a dedicated cluster's download restore job: from the sensor's XCom value, or fresh from the API."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_object_id
from airflow_provider_atlas_restore.download.file_names import name_snapshot_files
from airflow_provider_atlas_restore.download.snapshot_files import DownloadLink
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasDownloadError, AtlasInputError
from airflow_provider_atlas_restore.masking import REDACTED_URL, is_usable_link, mask_links_in
from airflow_provider_atlas_restore.models import RestoreJob, RestoreJobResult, RestoreJobState
from airflow_provider_atlas_restore.models.cluster_kind import FLEX_CLUSTER_IN_CLUSTER_API, ClusterKind
from airflow_provider_atlas_restore.models.restore_job import parse_timestamp, with_private_links
from airflow_provider_atlas_restore.models.result import parse_xcom_text

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

__all__ = ["RestoreJobLinks", "read_restore_job"]


def _has_links(job: RestoreJobResult) -> bool:
    """Return whether the job carries a usable link for every file (none redacted or missing)."""
    if job.components:
        return all(is_usable_link(component.download_url) for component in job.components)
    return bool(job.delivery_urls) and all(is_usable_link(url) for url in job.delivery_urls)


def _refuse_a_failed_job(job: RestoreJobResult, where: str) -> None:
    """Fail the task (no retry can help) when ``job`` failed, was cancelled or expired."""
    if job.state is not None and job.state.is_failure:
        raise AirflowFailException(
            f"{where} is {job.state.value}: there is nothing to download. Create a new download restore job."
        )


def read_restore_job(value: Any) -> RestoreJobResult:
    """
    Read the sensor's XCom value (a dict or its text), or a job as the Atlas API returns it.

    Its links are registered with the secret masker before anything is logged; the value is
    never shown in an error (it may hold links).

    :param value: the task's ``restore_job``.
    """
    if isinstance(value, str):
        value = parse_xcom_text(value)
    if not isinstance(value, Mapping):
        raise AtlasInputError(
            "restore_job must be the restore-job sensor's XCom value: a dict, or its JSON text."
        )
    # Not rendered (a dict given as it is): its links, private-endpoint ones included, are
    # registered here, before anything is logged.
    mask_links_in(value)
    if "restore_job_id" not in value and ("deliveryUrl" in value or "id" in value):
        cluster, group = value.get("cluster_name"), value.get("group_id")
        return RestoreJobResult.from_job(
            value,
            restore_job_id=RestoreJob.from_api(value).id,
            cluster_name=cluster if isinstance(cluster, str) and cluster else None,
            group_id=group if isinstance(group, str) and group else None,
        )
    return RestoreJobResult.from_xcom(value)


class RestoreJobLinks:
    """
    The files of a dedicated cluster's ``download`` restore job, and fresh links for them.

    Links in the XCom value are used while usable (not redacted, not expired, and no private
    endpoint asked for); otherwise they are read fresh from the API by job id.

    :param hook: the Atlas hook.
    :param log: the task's logger.
    :param restore_job: the task's ``restore_job`` (the sensor's XCom value), or ``None``.
    :param restore_job_id: the task's ``restore_job_id``, or ``None``.
    :param cluster_name: the task's ``cluster_name``, or ``None``.
    :param group_id: the task's ``group_id``, or ``None`` for the connection's.
    :param private_endpoint: the private endpoint to download through, or ``None``.
    :param file_name_template: the task's ``file_name_template``.
    :param now: the current time, to judge the links' expiry.
    :param cluster_type: ``"auto"`` or ``"dedicated"``: how the hook reads the job.
    """

    def __init__(
        self,
        hook: AtlasHook,
        log: logging.Logger | Any,
        *,
        restore_job: Any,
        restore_job_id: str | None,
        cluster_name: str | None,
        group_id: str | None,
        private_endpoint: str | None,
        file_name_template: str | None,
        now: datetime,
        cluster_type: str = "auto",
    ) -> None:
        self.hook = hook
        self.log = log
        self.restore_job = restore_job
        self.restore_job_id = restore_job_id
        self.cluster_name = cluster_name
        self.group_id = group_id
        self.private_endpoint = private_endpoint
        self.file_name_template = file_name_template
        self.now = now
        self.cluster_type = cluster_type
        self._source: tuple[str | None, str | None, str | None] = (restore_job_id, cluster_name, group_id)
        #: When Atlas took the snapshot (the job's ``timestamp``), once the job was read from the API.
        self.snapshot_time: datetime | None = None

    @property
    def source(self) -> tuple[str | None, str | None, str | None]:
        """Return the job id, cluster and project the links came from (after :meth:`links`)."""
        return self._source

    def links(self) -> list[DownloadLink]:
        """Return the files to download, from the XCom value or fresh from the API."""
        endpoint = self.private_endpoint
        if not self.restore_job:
            return self._fetch(self.restore_job_id, self.cluster_name, self.group_id)
        job = read_restore_job(self.restore_job)
        job_id = job.restore_job_id or self.restore_job_id
        cluster_name = job.cluster_name or self.cluster_name
        group_id = job.group_id or self.group_id
        self._source = (job_id, cluster_name, group_id)
        _refuse_a_failed_job(job, f"Restore job {job_id}")
        expired = job.expires_at is not None and job.expires_at <= self.now
        usable = _has_links(job) and not expired and job.state in (None, RestoreJobState.READY)
        if usable and endpoint is None:
            return self._name(job)
        if endpoint is not None:
            why = f"private_endpoint_id is {endpoint}"
        elif expired:
            why = "its download links expired"
        elif REDACTED_URL in (*job.delivery_urls, *(c.download_url for c in job.components)):
            why = "its links were kept out of XCom (the sensor's include_delivery_urls=False)"
        else:
            why = "it carries no usable download links"
        if job_id and cluster_name:
            self.log.info("restore_job: %s; resolving fresh links of job %s from the Atlas API", why, job_id)
            return self._fetch(job_id, cluster_name, group_id)
        raise AirflowFailException(
            f"restore_job: {why}, and it names no restore_job_id and cluster_name to resolve fresh "
            "links from the Atlas API. Pass restore_job_id and cluster_name."
        )

    def renew(self, link: DownloadLink) -> DownloadLink | None:
        """
        Return a fresh link for the file of ``link`` from the job read again, or ``None`` when there is none.

        Dedicated links are single-use: the job read again usually holds the same (spent) link,
        and then there is none to give.

        :param link: the file whose link the download server refused.
        """
        job_id, cluster_name, group_id = self._source
        if not (job_id and cluster_name):
            return None
        for fresh in self._fetch(job_id, cluster_name, group_id):
            if fresh.file_name == link.file_name and fresh.url != link.url:
                return fresh
        return None

    def _fetch(
        self, job_id: str | None, cluster_name: str | None, group_id: str | None
    ) -> list[DownloadLink]:
        job_id = validate_object_id(job_id, "restore_job_id")
        cluster_name = validate_cluster_name(cluster_name)
        if group_id:
            validate_object_id(group_id, "group_id")
        where = f"Restore job {job_id} of cluster {cluster_name}"
        flex = AirflowFailException(
            f"Cluster {cluster_name} is a flex cluster: flex clusters have no download restore jobs, so "
            f"{where} cannot be downloaded. Download a flex snapshot with snapshot_id (an id or "
            "'latest') and cluster_name instead."
        )
        try:
            raw = self.hook.get_restore_job(cluster_name, job_id, group_id, cluster_type=self.cluster_type)
        except AtlasApiError as error:
            if error.error_code == FLEX_CLUSTER_IN_CLUSTER_API:
                raise flex from None
            raise
        if (
            self.hook.known_cluster_kind(cluster_name, self.hook.resolve_group_id(group_id))
            is ClusterKind.FLEX
        ):
            raise flex  # "auto" found a flex cluster, and read its (restore, never download) job
        self.snapshot_time = parse_timestamp(raw.get("timestamp")) if isinstance(raw, Mapping) else None
        # The id asked for is kept, not the one the server echoed.
        ids = {"restore_job_id": job_id, "cluster_name": cluster_name, "group_id": group_id}
        job = RestoreJobResult.from_job(raw, **ids)
        _refuse_a_failed_job(job, where)
        if job.state is RestoreJobState.FINISHED:
            raise AirflowFailException(f"{where} is not a download restore job: it has no files to download.")
        if job.state is not RestoreJobState.READY:
            raise AtlasDownloadError(
                f"{where} is still pending: its download links are not ready yet. Wait for it with the "
                "restore-job sensor first, or let this task retry later."
            )
        endpoint = self.private_endpoint
        if endpoint is not None:
            job = RestoreJobResult.from_job(with_private_links(raw, endpoint, where=where), **ids)
            self.log.info("Downloading job %s through private endpoint %s", job_id, endpoint)
        return self._name(job, from_server=True)

    def _name(self, job: RestoreJobResult, *, from_server: bool = False) -> list[DownloadLink]:
        """Name one file per link (see :func:`~.file_names.name_snapshot_files`)."""
        return name_snapshot_files(
            job,
            restore_job_id=self.restore_job_id,
            cluster_name=self.cluster_name,
            file_name_template=self.file_name_template,
            from_server=from_server,
        )
