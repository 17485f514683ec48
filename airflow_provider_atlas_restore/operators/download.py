"""Operator that downloads a ready Atlas snapshot restore to a local folder or object storage."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_atlas_restore.api.validation import (
    validate_cluster_name,
    validate_cluster_type,
    validate_conn_id,
    validate_group_id_or_default,
    validate_int_range,
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
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.lineage.assets import outlets_with_folder_asset
from airflow_provider_atlas_restore.masking import mask_link, mask_links_in
from airflow_provider_atlas_restore.models.snapshot_choice import snapshot_id_from_input

# The hook and the downloader bring requests and urllib3: they are imported when the task runs,
# not when the DAG file is parsed. The retry policy (tenacity, which Airflow imports itself) is
# imported when the operator is built.
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_atlas_restore.download.destination import (
        DownloadDestination,
        DownloadLink,
        DownloadResult,
        LinkSource,
    )
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
    from airflow_provider_atlas_restore.lineage.download import DownloadLineage

#: What ``if_exists`` accepts (:mod:`~airflow_provider_atlas_restore.download.existing_files` applies it).
IF_EXISTS_MODES = ("replace", "skip_if_same", "fail")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _check_inputs(
    *,
    restore_job: Any,
    restore_job_id: Any,
    cluster_name: Any,
    snapshot_id: Any,
    cluster_type: Any,
    private_endpoint_id: Any,
    group_id: Any,
    atlas_conn_id: Any,
    rendered: bool,
) -> None:
    """
    Refuse a combination of inputs that names no download, or two kinds at once; values too once ``rendered``.

    A dedicated cluster's download is a restore job (``restore_job``, or ``restore_job_id`` and
    ``cluster_name``); a flex cluster's is a snapshot (``snapshot_id`` and ``cluster_name``). Once
    ``rendered``, a flex download's values are checked too (a restore job's are checked where it
    is read, as before).
    """
    if rendered or not _is_template(cluster_type):
        cluster_type = validate_cluster_type(cluster_type)
    by_job = bool(restore_job) or bool(restore_job_id)
    # A take-snapshot task's output is a mapping: given, even when empty (then refused below).
    by_snapshot = isinstance(snapshot_id, Mapping) or bool(snapshot_id)
    if by_snapshot and by_job:
        raise AtlasInputError(
            "snapshot_id (a flex cluster's snapshot) and restore_job/restore_job_id (a dedicated "
            "cluster's download restore job) name two downloads: the task must have one of them."
        )
    if not by_snapshot and not restore_job and not (restore_job_id and cluster_name):
        raise AtlasInputError(
            "Nothing to download: the task needs restore_job (the restore-job sensor's XCom value), or "
            "restore_job_id and cluster_name (a dedicated cluster), or snapshot_id and cluster_name "
            "(a flex cluster's snapshot: an id or 'latest')."
        )
    if by_snapshot:
        if not cluster_name:
            raise AtlasInputError("snapshot_id needs cluster_name: the flex cluster whose snapshot it is.")
        if cluster_type == "dedicated":
            raise AtlasInputError(
                "cluster_type='dedicated' with snapshot_id: a dedicated cluster's download needs a download "
                "restore job (restore_job_id); snapshot_id must go with cluster_type 'flex' or 'auto'."
            )
        if private_endpoint_id:
            raise AtlasInputError(
                "private_endpoint_id with snapshot_id: flex snapshots have no private-endpoint links; "
                "the task must have one of them."
            )
        if rendered:
            snapshot_id_from_input(snapshot_id, cluster_name=cluster_name)
        if rendered:
            validate_cluster_name(cluster_name)
            validate_group_id_or_default(group_id)
            validate_conn_id(atlas_conn_id)
    elif cluster_type == "flex":
        raise AtlasInputError(
            "cluster_type='flex' with a restore job: flex clusters have no download restore jobs; a flex "
            "download needs snapshot_id (an id or 'latest') and cluster_name."
        )


class AtlasDownloadSnapshotOperator(BaseOperator):
    """
    Download a snapshot into a folder: a dedicated cluster's ``download`` restore job, or a flex snapshot.

    Dedicated clusters: give the restore-job sensor's XCom dict (``restore_job``), or a
    ``restore_job_id`` and ``cluster_name``. Links are resolved fresh from the API by job id (they
    expire and are single-use) unless the XCom value holds usable ones (the sensor's
    ``include_delivery_urls``). Writes one ``.tar.gz`` per link: ``restore-<job id>.tar.gz`` on a
    replica set, ``restore-<job id>-<replica set>.tar.gz`` per shard and config server on a
    sharded cluster. Flex clusters: give ``snapshot_id`` (an id or ``"latest"``, the newest
    completed snapshot) and ``cluster_name``; Atlas's ``backup/download`` gives a ``snapshotUrl``
    (valid four hours, asked for again if it expires mid-download), written as
    ``snapshot-<snapshot id>.tgz``.
    Each file streams in chunks with constant memory, resumes after a dropped connection, is
    checked (length, gzip trailer) and hashed (sha256) while it streams, and appears under its
    final name only when complete and verified: in a local folder a hidden temporary file is
    fsynced and renamed; in object storage (``s3://``, ``gs://``) one uncommitted upload goes
    straight to the final key and is completed only then (aborted otherwise), with the job,
    snapshot, cluster and replica set as object metadata and the sha256 added at the end (an
    S3 object tag). Unfinished uploads an earlier attempt left for the same keys are aborted
    first. Returns a JSON list of ``{"path", "bytes", "sha256", "replica_set", "kept",
    "snapshot_id"}`` (``path`` is the full URI in object storage); the links never reach logs,
    errors or XCom.

    :param destination: a local folder, or an Airflow object storage URI such as
        ``s3://bucket/restores/``, ``gs://bucket/restores/`` or ``file:///data/restores``. (templated)
    :param restore_job: the sensor's XCom dict (or its JSON text), or a job as the API returns it. (templated)
    :param restore_job_id: the restore job id, when ``restore_job`` is not given. (templated)
    :param snapshot_id: a flex cluster's snapshot to download: its id, ``"latest"`` for the
        newest completed one, or a take-snapshot task's output (``XComArg``: a mapping with a
        ``snapshot_id`` key); not with ``restore_job``/``restore_job_id``. (templated)
    :param cluster_name: the cluster of the restore job, or the flex cluster of ``snapshot_id``. (templated)
    :param cluster_type: ``"auto"`` (default), ``"dedicated"`` or ``"flex"``. A restore job is a
        dedicated cluster's download and a ``snapshot_id`` a flex cluster's; with ``"auto"`` a
        ``snapshot_id`` download first checks the cluster is flex (one request, cached for the
        task), ``"flex"`` spares that request. A kind that contradicts the input is refused
        before any request. (templated)
    :param group_id: the project id; defaults to the connection's ``group_id`` extra. (templated)
    :param private_endpoint_id: download through this private endpoint (``vpce-...``): its
        ``privateDownloadDeliveryUrls``, on the job and on each sharded component, resolved fresh
        from the API; a job without such a link for every file fails before any byte is fetched.
        Defaults to the connection's ``private_endpoint_id`` extra (not used for flex snapshots,
        which have no private links); none: the public links. (templated)
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

    Lineage (docs/lineage.md): the task's outlet is the destination folder's asset (its URI
    with one trailing slash, declared when the DAG is parsed) unless ``outlets`` are given; each
    successful run puts on their event an extra listing each file's URI, bytes and sha256 and
    the cluster, snapshot and restore job. Each file is reported to Airflow's hook lineage and
    to OpenLineage (an optional provider) as an output of the cluster.
    """

    template_fields: Sequence[str] = (
        "restore_job",
        "restore_job_id",
        "snapshot_id",
        "cluster_name",
        "cluster_type",
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
        snapshot_id: str | Mapping[str, Any] | None = None,
        cluster_name: str | None = None,
        cluster_type: str = "auto",
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
        kwargs["outlets"] = outlets_with_folder_asset(destination, kwargs.get("outlets"))
        super().__init__(**kwargs)
        self.destination = destination
        self.restore_job = restore_job
        self.restore_job_id = restore_job_id
        self.snapshot_id = snapshot_id
        self.cluster_name = cluster_name
        self.cluster_type = cluster_type
        self.group_id = group_id
        self.atlas_conn_id = atlas_conn_id
        self.destination_conn_id = destination_conn_id
        self.private_endpoint_id = private_endpoint_id
        self._check_inputs(rendered=False)
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
        """Check the inputs and the destination, resolve the links, download each file and return what was written."""
        from airflow_provider_atlas_restore.download.destination import DownloadDestination
        from airflow_provider_atlas_restore.download.existing_files import files_kept
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

        self._check_inputs(rendered=True)  # before any request or side effect
        destination = DownloadDestination(
            self.destination, self.destination_conn_id, part_size=self.upload_part_size
        )
        destination.prepare()  # before any request: a bad destination fails fast, with nothing sent
        hook = AtlasHook(atlas_conn_id=self.atlas_conn_id)
        hook.sleep = self.sleep
        try:
            source = self._link_source(hook)
            links = source.links()
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
            kept = files_kept(destination, links, self.if_exists, self.log)  # before any link is spent
            try:
                results = [
                    kept.get(link.file_name) or self._download(downloader, link, destination, source)
                    for link in links
                ]
            finally:
                downloader.session.close()
            self._record_lineage(context, hook, source, links, results)
        finally:
            hook.close()
        return [result.to_xcom() for result in results]

    def _record_lineage(
        self, context: Context, hook: AtlasHook, source: Any, links: Any, results: Any
    ) -> None:
        """Put the run's extra on its asset events and report its hook lineage (docs/lineage.md)."""
        from airflow_provider_atlas_restore.lineage.download import download_source, record_download

        atlas = download_source(source, links, results, hook)
        self._lineage = record_download(context, self.outlets, hook, atlas, results)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage facets of the run: the cluster in, each written file out (docs/lineage.md)."""
        from airflow_provider_atlas_restore.lineage.openlineage import files_lineage

        lineage: DownloadLineage | None = getattr(self, "_lineage", None)
        if lineage is None:
            return None
        return files_lineage(*lineage)

    def _check_inputs(self, *, rendered: bool) -> None:
        _check_inputs(
            restore_job=self.restore_job,
            restore_job_id=self.restore_job_id,
            cluster_name=self.cluster_name,
            snapshot_id=self.snapshot_id,
            cluster_type=self.cluster_type,
            private_endpoint_id=self.private_endpoint_id,
            group_id=self.group_id,
            atlas_conn_id=self.atlas_conn_id,
            rendered=rendered,
        )

    def _link_source(self, hook: AtlasHook) -> LinkSource:
        """Return where the links come from: the flex snapshot, or the dedicated restore job."""
        if isinstance(self.snapshot_id, Mapping) or self.snapshot_id:
            from airflow_provider_atlas_restore.download.flex_snapshot_links import FlexSnapshotLinks

            return FlexSnapshotLinks(
                hook,
                self.log,
                cluster_name=validate_cluster_name(self.cluster_name),
                group_id=validate_group_id_or_default(self.group_id),
                snapshot_id=snapshot_id_from_input(self.snapshot_id, cluster_name=self.cluster_name),
                cluster_type=validate_cluster_type(self.cluster_type),
                file_name_template=self.file_name_template,
            )
        from airflow_provider_atlas_restore.download.restore_job_links import RestoreJobLinks

        return RestoreJobLinks(
            hook,
            self.log,
            restore_job=self.restore_job,
            restore_job_id=self.restore_job_id,
            cluster_name=self.cluster_name,
            group_id=self.group_id,
            private_endpoint=self._private_endpoint(hook),
            file_name_template=self.file_name_template,
            now=_utcnow(),
            cluster_type=validate_cluster_type(self.cluster_type),
        )

    def _download(
        self, downloader: Any, link: DownloadLink, destination: DownloadDestination, source: LinkSource
    ) -> DownloadResult:
        """Abort what an earlier attempt left unfinished for this file, then download it."""
        for started in destination.abort_unfinished_uploads(link.file_name):
            self.log.warning(
                "Aborted an unfinished upload of %s that an earlier attempt left (started %s)",
                destination.uri_of(link.file_name),
                started,
            )
        result: DownloadResult = downloader.download(link, destination, source.renew)
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
