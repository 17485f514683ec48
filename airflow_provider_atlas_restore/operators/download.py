"""Operator that downloads a ready Atlas snapshot restore to a local folder or object storage."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_int_range,
    validate_object_id,
    validate_private_endpoint_id,
)
from airflow_provider_atlas_restore.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_PROGRESS_INTERVAL,
    DEFAULT_UPLOAD_PART_SIZE,
    DOWNLOAD_INITIAL_WAIT,
    DOWNLOAD_MAX_ATTEMPTS,
    DOWNLOAD_MAX_TOTAL_WAIT,
    DOWNLOAD_MAX_WAIT,
    MIN_UPLOAD_PART_SIZE,
)
from airflow_provider_atlas_restore.exceptions import (
    AtlasDestinationExistsError,
    AtlasDownloadError,
    AtlasInputError,
)
from airflow_provider_atlas_restore.masking import REDACTED_URL, is_usable_link, mask_link, mask_links_in
from airflow_provider_atlas_restore.models import RestoreJob, RestoreJobResult, RestoreJobState
from airflow_provider_atlas_restore.models.restore_job import with_private_links
from airflow_provider_atlas_restore.models.result import parse_xcom_text

# The hook and the downloader bring requests and urllib3: they are imported when the task runs,
# not when the DAG file is parsed. The retry policy (tenacity, which Airflow imports itself) is
# imported when the operator is built.
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.download.destination import (
        DownloadDestination,
        DownloadLink,
        DownloadResult,
    )
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

#: What ``if_exists`` accepts.
IF_EXISTS_MODES = ("replace", "skip_if_same", "fail")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


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


def _read_restore_job(data: Mapping[str, Any]) -> RestoreJobResult:
    """Read the sensor's XCom dict, or a job as the Atlas API returns it (its echoed id validated)."""
    if "restore_job_id" not in data and ("deliveryUrl" in data or "id" in data):
        cluster, group = data.get("cluster_name"), data.get("group_id")
        return RestoreJobResult.from_job(
            data,
            restore_job_id=RestoreJob.from_api(data).id,
            cluster_name=cluster if isinstance(cluster, str) and cluster else None,
            group_id=group if isinstance(group, str) and group else None,
        )
    return RestoreJobResult.from_xcom(data)


class AtlasDownloadSnapshotOperator(BaseOperator):
    """
    Download a ready Atlas snapshot restore (a ``download`` restore job) into a folder.

    Give it the XCom dict of the restore-job sensor (``restore_job``), or a ``restore_job_id`` and
    ``cluster_name``. Links are resolved fresh from the API by job id (they expire and are
    single-use) unless the XCom value holds usable ones (the sensor's ``include_delivery_urls``). Writes one ``.tar.gz`` per link: ``restore-<job id>.tar.gz`` on a replica set,
    ``restore-<job id>-<replica set>.tar.gz`` per shard and config server on a sharded cluster.
    Each file streams in chunks with constant memory, resumes after a dropped connection, is
    checked (length, gzip trailer) and hashed (sha256) while it streams, and appears under its
    final name only when complete and verified: in a local folder a hidden temporary file is
    fsynced and renamed; in object storage (``s3://``, ``gs://``) one uncommitted upload goes
    straight to the final key and is completed only then (aborted otherwise), with the job,
    snapshot, cluster and replica set as object metadata and the sha256 added at the end (an
    S3 object tag). Unfinished uploads an earlier attempt left for the same keys are aborted
    first. Returns a JSON list of ``{"path", "bytes", "sha256", "replica_set", "kept"}``
    (``path`` is the full URI in object storage); the links never reach logs, errors or XCom.

    :param destination: a local folder, or an Airflow object storage URI such as
        ``s3://bucket/restores/``, ``gs://bucket/restores/`` or ``file:///data/restores``. (templated)
    :param restore_job: the sensor's XCom dict (or its JSON text), or a job as the API returns it. (templated)
    :param restore_job_id: the restore job id, when ``restore_job`` is not given. (templated)
    :param cluster_name: the cluster of the restore job. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param private_endpoint_id: download through this private endpoint (``vpce-...``): its
        ``privateDownloadDeliveryUrls``, on the job and on each sharded component, resolved fresh
        from the API; a job without such a link for every file fails before any byte is fetched.
        Defaults to the connection's ``private_endpoint_id`` extra; none: the public links. (templated)
    :param atlas_conn_id: the ``mongodb_atlas`` connection. (templated)
    :param destination_conn_id: the Airflow connection of an object storage destination (an
        ``aws`` or ``google_cloud_platform`` one), as ``ObjectStoragePath`` uses it. (templated)
    :param if_exists: what to do with a file already at its final name: ``"replace"`` it
        (default), ``"skip_if_same"`` (keep it, with no download, when its recorded metadata says
        it was written whole, with a sha256, from the same snapshot and replica set; else
        replace it), or ``"fail"`` (before any download link is spent).
    :param upload_part_size: bytes per part of an object storage upload (default 16 MiB, at
        least 5 MiB); it grows for files over 10,000 parts. Memory added by a download is about
        three parts.
    :param allow_http: accept plain-http download links (a local emulator only); the connection
        extra ``allow_http_downloads`` does the same.
    :param file_name_template: a ``str.format`` template for file names, with ``{restore_job_id}``,
        ``{replica_set}`` (empty on a replica set), ``{index}`` (from 1), ``{cluster_name}`` and
        ``{snapshot_id}``; the default names are used when ``None``.
    :param chunk_size: bytes read and written at a time (default 1 MiB).
    :param max_attempts: requests per file, the first included; each resume counts (default 5).
    :param retry_initial_wait: seconds before the first resume, doubling after (default 1).
    :param progress_interval: seconds between progress log lines (default 5).
    """

    template_fields: Sequence[str] = (
        "restore_job",
        "restore_job_id",
        "cluster_name",
        "group_id",
        "destination",
        "destination_conn_id",
        "atlas_conn_id",
        "private_endpoint_id",
    )
    ui_color = "#13aa52"

    def __init__(
        self,
        *,
        destination: str | Any,
        restore_job: dict[str, Any] | str | None = None,
        restore_job_id: str | None = None,
        cluster_name: str | None = None,
        group_id: str | None = None,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        destination_conn_id: str | None = None,
        allow_http: bool = False,
        file_name_template: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_attempts: int = DOWNLOAD_MAX_ATTEMPTS,
        retry_initial_wait: float = DOWNLOAD_INITIAL_WAIT,
        progress_interval: float = DEFAULT_PROGRESS_INTERVAL,
        if_exists: str = "replace",
        upload_part_size: int = DEFAULT_UPLOAD_PART_SIZE,
        private_endpoint_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not restore_job and not (restore_job_id and cluster_name):
            raise AtlasInputError(
                "Nothing to download: pass restore_job (the restore-job sensor's XCom value), or "
                "restore_job_id and cluster_name."
            )
        self.destination = destination
        self.restore_job = restore_job
        self.restore_job_id = restore_job_id
        self.cluster_name = cluster_name
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.destination_conn_id = destination_conn_id
        self.private_endpoint_id = private_endpoint_id
        self.allow_http = allow_http
        self.file_name_template = file_name_template
        self.chunk_size = validate_int_range(chunk_size, "chunk_size", 1024)
        if if_exists not in IF_EXISTS_MODES:
            raise AtlasInputError(
                f"if_exists={if_exists!r} is not one of {', '.join(map(repr, IF_EXISTS_MODES))}."
            )
        self.if_exists = if_exists
        self.upload_part_size = validate_int_range(
            upload_part_size, "upload_part_size", MIN_UPLOAD_PART_SIZE, 5 << 30
        )
        from airflow_provider_atlas_restore.client.retry import RetryPolicy

        self.retry = RetryPolicy(
            max_attempts=validate_int_range(max_attempts, "max_attempts", 1),
            initial_wait=retry_initial_wait,
            max_wait=DOWNLOAD_MAX_WAIT,
            max_total_wait=DOWNLOAD_MAX_TOTAL_WAIT,
        )
        if isinstance(progress_interval, bool) or not isinstance(progress_interval, (int, float)):
            raise AtlasInputError(f"progress_interval={progress_interval!r} is not a number of seconds.")
        self.progress_interval = float(progress_interval)
        #: How the task waits between attempts and reads time; tests replace them.
        self.sleep: Callable[[float], None] = time.sleep
        self.monotonic: Callable[[], float] = time.monotonic

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render the templated fields, then mask any link they now hold before they are stored."""
        super().render_template_fields(context, jinja_env)
        mask_links_in(self.restore_job)

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """Check the destination, resolve the links, download each file and return what was written."""
        from airflow_provider_atlas_restore.download.destination import DownloadDestination
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

        destination = DownloadDestination(
            self.destination, self.destination_conn_id, part_size=self.upload_part_size
        )
        destination.prepare()  # before any request: a bad destination fails fast, with nothing sent
        hook = AtlasHook(atlas_conn_id=self.atlas_conn_id)
        hook.sleep = self.sleep
        try:
            links = self._links(hook, self._private_endpoint(hook))
            downloader = hook.snapshot_downloader(
                self.log,
                allow_http=self.allow_http,
                chunk_size=self.chunk_size,
                retry=self.retry,
                progress_interval=self.progress_interval,
                sleep=self.sleep,
                monotonic=self.monotonic,
            )
            for link in links:
                mask_link(link.url)
                downloader.check_link(link)  # every link, before the first byte is written
            kept = self._files_kept(destination, links)  # before any link is spent
            try:
                results = [
                    kept.get(link.file_name) or self._download(downloader, link, destination)
                    for link in links
                ]
            finally:
                downloader.session.close()
        finally:
            hook.close()
        return [result.to_xcom() for result in results]

    def _files_kept(
        self, destination: DownloadDestination, links: list[DownloadLink]
    ) -> dict[str, DownloadResult]:
        """Apply ``if_exists`` to the files already there: fail, or return those kept, by file name."""
        from airflow_provider_atlas_restore.download.destination import DownloadResult

        if self.if_exists == "replace":
            return {}
        kept: dict[str, DownloadResult] = {}
        for link in links:
            stored = destination.stored(link.file_name)
            if stored is None:
                continue
            if self.if_exists == "fail":
                raise AtlasDestinationExistsError(
                    f"{stored.uri} already exists and if_exists='fail': nothing was downloaded. Remove "
                    "it, or use if_exists='replace' or 'skip_if_same'."
                )
            if link.origin is not None and link.origin.matches(stored) and stored.sha256 is not None:
                self.log.info(
                    "Keeping %s: it already holds snapshot %s (%d bytes, sha256 %s); not downloading it again",
                    stored.uri,
                    link.origin.snapshot_id,
                    stored.bytes,
                    stored.sha256,
                )
                kept[link.file_name] = DownloadResult(
                    stored.uri, stored.bytes, stored.sha256, link.replica_set, kept=True
                )
            else:
                self.log.info(
                    "%s exists but its metadata does not show it whole from snapshot %s (recorded: %s): "
                    "replacing it",
                    stored.uri,
                    link.origin.snapshot_id if link.origin else "(unknown)",
                    {
                        key: value
                        for key, value in stored.metadata.items()
                        if key.startswith(("atlas-", "sha"))
                    }
                    or "nothing",
                )
        return kept

    def _download(
        self, downloader: Any, link: DownloadLink, destination: DownloadDestination
    ) -> DownloadResult:
        """Abort what an earlier attempt left unfinished for this file, then download it."""
        for started in destination.abort_unfinished_uploads(link.file_name):
            self.log.warning(
                "Aborted an unfinished upload of %s that an earlier attempt left (started %s)",
                destination.uri_of(link.file_name),
                started,
            )
        result: DownloadResult = downloader.download(link, destination)
        return result

    def _private_endpoint(self, hook: AtlasHook) -> str | None:
        """Return the private endpoint to download through: the parameter's, else the connection extra's."""
        if self.private_endpoint_id:
            return validate_private_endpoint_id(self.private_endpoint_id)
        extras = hook.get_connection(hook.atlas_conn_id).extra_dejson
        value = extras.get("private_endpoint_id") or extras.get("extra__mongodb_atlas__private_endpoint_id")
        if not value:
            return None
        return validate_private_endpoint_id(
            value, f"connection {hook.atlas_conn_id!r} extra private_endpoint_id"
        )

    def _links(self, hook: AtlasHook, endpoint: str | None) -> list[DownloadLink]:
        """Return the files to download, from the XCom value or fresh from the API."""
        if not self.restore_job:
            return self._fetch_links(hook, self.restore_job_id, self.cluster_name, self.group_id, endpoint)
        job = _read_restore_job(self._restore_job_dict())
        job_id = job.restore_job_id or self.restore_job_id
        cluster_name = job.cluster_name or self.cluster_name
        group_id = job.group_id or self.group_id
        _refuse_a_failed_job(job, f"Restore job {job_id}")
        expired = job.expires_at is not None and job.expires_at <= _utcnow()
        usable = _has_links(job) and not expired and job.state in (None, RestoreJobState.READY)
        if usable and endpoint is None:
            return self._file_links(job)
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
            return self._fetch_links(hook, job_id, cluster_name, group_id, endpoint)
        raise AirflowFailException(
            f"restore_job: {why}, and it names no restore_job_id and cluster_name to resolve fresh "
            "links from the Atlas API. Pass restore_job_id and cluster_name."
        )

    def _restore_job_dict(self) -> Mapping[str, Any]:
        value = self.restore_job
        if isinstance(value, str):
            value = parse_xcom_text(value)
        if not isinstance(value, Mapping):
            # The value is not shown: it may hold secret links.
            raise AtlasInputError(
                "restore_job must be the restore-job sensor's XCom value: a dict, or its JSON text."
            )
        # Not rendered (a dict given as it is): its links, private-endpoint ones included, are
        # registered here, before anything is logged.
        mask_links_in(value)
        return value

    def _fetch_links(
        self,
        hook: AtlasHook,
        job_id: str | None,
        cluster_name: str | None,
        group_id: str | None,
        endpoint: str | None = None,
    ) -> list[DownloadLink]:
        job_id = validate_object_id(job_id, "restore_job_id")
        cluster_name = validate_cluster_name(cluster_name)
        if group_id:
            validate_object_id(group_id, "group_id")
        raw = hook.get_restore_job(cluster_name, job_id, group_id)
        # The id asked for is kept, not the one the server echoed.
        ids = {"restore_job_id": job_id, "cluster_name": cluster_name, "group_id": group_id}
        job = RestoreJobResult.from_job(raw, **ids)
        where = f"Restore job {job_id} of cluster {cluster_name}"
        _refuse_a_failed_job(job, where)
        if job.state is RestoreJobState.FINISHED:
            raise AirflowFailException(f"{where} is not a download restore job: it has no files to download.")
        if job.state is not RestoreJobState.READY:
            raise AtlasDownloadError(
                f"{where} is still pending: its download links are not ready yet. Wait for it with the "
                "restore-job sensor first, or let this task retry later."
            )
        if endpoint is not None:
            job = RestoreJobResult.from_job(with_private_links(raw, endpoint, where=where), **ids)
            self.log.info("Downloading job %s through private endpoint %s", job_id, endpoint)
        return self._file_links(job, from_server=True)

    def _file_links(self, job: RestoreJobResult, *, from_server: bool = False) -> list[DownloadLink]:
        """Name one file per link (see :func:`~airflow_provider_atlas_restore.download.file_names.name_snapshot_files`)."""
        from airflow_provider_atlas_restore.download.file_names import name_snapshot_files

        return name_snapshot_files(
            job,
            restore_job_id=self.restore_job_id,
            cluster_name=self.cluster_name,
            file_name_template=self.file_name_template,
            from_server=from_server,
        )
