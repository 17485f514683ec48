"""The hook for MongoDB Atlas Cloud Backup restore jobs and snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook, mask_secret

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec, restore_job_spec
from airflow_provider_atlas_restore.api.endpoints import DEFAULT_ITEMS_PER_PAGE, ApiRequest, AtlasRequests
from airflow_provider_atlas_restore.api.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.api.responses import AccessToken, expect_mapping
from airflow_provider_atlas_restore.api.validation import (
    MAX_ITEMS_PER_PAGE,
    validate_flag,
    validate_group_id_or_default,
    validate_int_range,
    validate_object_id,
)
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.connection_check import check_connection
from airflow_provider_atlas_restore.client.requests_transport import api_session, send_attempt
from airflow_provider_atlas_restore.client.retry import RetryPolicy, is_retryable, is_safe_to_repeat_create
from airflow_provider_atlas_restore.client.tokens import TokenCache, shared_token_cache
from airflow_provider_atlas_restore.client.transport import (
    call_flow,
    got_token,
    run_flow,
    token_request,
    uses_bearer,
)
from airflow_provider_atlas_restore.client.transport_errors import describe_transport_error
from airflow_provider_atlas_restore.defaults import DEFAULT_CONN_ID
from airflow_provider_atlas_restore.exceptions import (
    AtlasApiError,
    AtlasInputError,
    AtlasSnapshotNotFoundError,
)
from airflow_provider_atlas_restore.get_provider_info import UI_FIELD_BEHAVIOUR
from airflow_provider_atlas_restore.masking import mask_delivery_urls
from airflow_provider_atlas_restore.models import newest_completed

if TYPE_CHECKING:
    import logging

    import requests

    from airflow_provider_atlas_restore.download.downloader import SnapshotDownloader

__all__ = ["AtlasHook", "describe_transport_error", "mask_delivery_urls"]


class AtlasHook(BaseHook):
    """
    Call the MongoDB Atlas Administration API (v2 by default, or v1.0) for Cloud Backup restores.

    Authenticates with an API key pair over HTTP Digest. One ``requests.Session`` and one Digest
    auth object live as long as the hook, so after the first challenge every call goes out
    already authorised: one HTTP request per API call. Connection errors, timeouts, 429 and 5xx
    answers are retried (see :class:`~airflow_provider_atlas_restore.client.retry.RetryPolicy`).

    :param atlas_conn_id: the ``mongodb_atlas`` connection to use.
    :param api_version: ``v2`` or ``v1.0``; overrides the connection's ``api_version`` extra.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    :param retry_max_attempts: attempts per call, the first included (default 5).
    :param retry_initial_wait: seconds before the first retry, doubling after (default 1).
    :param retry_max_wait: the longest single backoff wait in seconds (default 60).
    :param retry_max_total_wait: seconds spent waiting across one call's retries (default 300).
    """

    conn_name_attr = "atlas_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "mongodb_atlas"
    hook_name = "MongoDB Atlas"

    def __init__(
        self,
        atlas_conn_id: str = DEFAULT_CONN_ID,
        *,
        api_version: str | None = None,
        timeout: float | None = None,
        retry_max_attempts: int | None = None,
        retry_initial_wait: float | None = None,
        retry_max_wait: float | None = None,
        retry_max_total_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.atlas_conn_id = atlas_conn_id
        self._overrides: dict[str, Any] = {
            "api_version": api_version,
            "timeout": timeout,
            "retry_max_attempts": retry_max_attempts,
            "retry_initial_wait": retry_initial_wait,
            "retry_max_wait": retry_max_wait,
            "retry_max_total_wait": retry_max_total_wait,
        }
        self._session: requests.Session | None = None
        #: How the hook waits between retries; tests replace it so nothing really sleeps.
        self.sleep: Callable[[float], None] = time.sleep

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel and hide connection form fields (Airflow 2.11; 3.x reads the provider info)."""
        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Add authentication, project id, API version and scheme to the connection form (Airflow 2.11)."""
        from airflow_provider_atlas_restore.hooks.connection_form import connection_form_widgets

        return connection_form_widgets()

    @cached_property
    def config(self) -> AtlasConnectionConfig:
        """Return the connection's settings, with this hook's overrides applied."""
        connection = self.get_connection(self.atlas_conn_id)
        config = AtlasConnectionConfig.from_connection(connection, self.conn_type)
        mask_secret(config.password)
        return config.with_overrides(self._overrides)

    @cached_property
    def api(self) -> AtlasRequests:
        """Return the request builder for the configured API version."""
        return AtlasRequests(self.config.api_version)

    @cached_property
    def tokens(self) -> TokenCache:
        """Return the process-wide token cache of this connection's service account."""
        config = self.config
        return shared_token_cache(config.base_url, config.login, config.password)

    def get_conn(self) -> requests.Session:
        """Return the hook's session, created once with its Digest auth, TLS and proxy settings."""
        if self._session is None:
            self._session = api_session(self.config)
        return self._session

    def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def run(
        self,
        request: ApiRequest,
        *,
        retry: RetryPolicy | None = None,
        retry_if: Callable[[BaseException], bool] = is_retryable,
        authorize: bool = True,
    ) -> Any:
        """
        Send ``request`` with retries and return the parsed answer, or raise :class:`AtlasApiError`.

        Each attempt is :func:`~airflow_provider_atlas_restore.client.transport.call_flow`, sent
        through :func:`~airflow_provider_atlas_restore.client.requests_transport.send_attempt`.

        :param request: a request built by :class:`~airflow_provider_atlas_restore.api.endpoints.AtlasRequests`.
        :param retry: the retry policy for this call; defaults to the connection's.
        :param retry_if: which errors are worth another attempt; by default transient ones.
        :param authorize: send the service account's bearer token (``False`` for the token request).
        """
        retrying = (retry or self.config.retry).retrying(log=self.log, sleep=self.sleep, retry_if=retry_if)
        return retrying(self._attempt, request, authorize)

    def _attempt(self, request: ApiRequest, authorize: bool) -> Any:
        config = self.config
        return run_flow(
            call_flow(request, self.tokens, bearer=uses_bearer(config, authorize)),
            lambda: self.tokens.get(self.fetch_token),
            lambda headers: send_attempt(self.get_conn(), config, request, headers),
        )

    def fetch_token(self, retry: RetryPolicy | None = None) -> AccessToken:
        """
        Request a new service-account token (use :attr:`tokens` to get the cached one).

        :param retry: the retry policy for the token request; defaults to the connection's.
        """
        token: AccessToken = self.run(token_request(self.config), retry=retry, authorize=False)
        return got_token(token, self.config, self.log)

    def resolve_group_id(self, group_id: str | None) -> str:
        """
        Return ``group_id``, or the connection's ``group_id`` extra when it is not given.

        :param group_id: the project id given by the caller, or ``None``.
        """
        resolved = group_id or self.config.group_id
        if not resolved:
            raise AtlasInputError(
                f"No Atlas project id: pass group_id, or set the group_id extra of connection "
                f"{self.atlas_conn_id!r}."
            )
        return validate_object_id(resolved, "group_id")

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with real calls and say which step failed (see :func:`check_connection`)."""
        return check_connection(self)

    def snapshot_downloader(
        self,
        log: logging.Logger | Any = None,
        *,
        allow_http: bool = False,
        **options: Any,
    ) -> SnapshotDownloader:
        """
        Return a downloader of snapshot archives with this connection's TLS, proxies and timeouts.

        Its session sends no credentials (download links are bearer links); close it with
        ``downloader.session.close()``.

        :param log: where progress and retries are logged; the hook's log by default.
        :param allow_http: accept plain-http links; the connection's ``allow_http_downloads`` also does.
        :param options: more arguments of
            :class:`~airflow_provider_atlas_restore.download.downloader.SnapshotDownloader`
            (``chunk_size``, ``retry``, ``progress_interval``, ``sleep``, ``monotonic``).
        """
        from airflow_provider_atlas_restore.download.downloader import SnapshotDownloader, download_session

        config = self.config
        return SnapshotDownloader(
            download_session(config),
            log if log is not None else self.log,
            allow_http=allow_http or config.allow_http_downloads,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            **options,
        )

    def get_project(self, group_id: str | None = None, *, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """
        Return the project (group) as Atlas describes it.

        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param retry: the retry policy for this call; defaults to the connection's.
        """
        request = self.api.get_project_request(self.resolve_group_id(group_id))
        return expect_mapping(request, 200, self.run(request, retry=retry))

    def _project(self, group_id: str | None) -> str:
        """Return the checked project id: ``group_id``, or the connection's when it is ``None`` or ``""``."""
        return self.resolve_group_id(validate_group_id_or_default(group_id))

    def get_restore_jobs_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
        include_count: bool = True,
        pretty: bool = False,
        envelope: bool = False,
    ) -> Page:
        """
        Return one page of a cluster's restore jobs, newest first.

        Download links in a listing are not registered with the secret masker; pass a job to
        :func:`mask_delivery_urls` before logging or returning its links.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        :param include_count: ask Atlas for ``totalCount``.
        :param pretty: ask Atlas for indented JSON.
        :param envelope: ask Atlas for an envelope; it is removed before the page is returned.
        """
        request = self.api.list_restore_jobs_request(
            self._project(group_id),
            cluster_name,
            page_num=page_num,
            items_per_page=items_per_page,
            include_count=validate_flag(include_count, "include_count"),
            pretty=validate_flag(pretty, "pretty"),
            envelope=validate_flag(envelope, "envelope"),
        )
        # Links in a listing are not registered with the secret masker: registering costs time
        # that grows with every secret (minutes for thousands of jobs). Callers that log or
        # return a listed job's links mask them first, as AtlasListRestoreJobsOperator does.
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def iter_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> UniqueItems:
        """
        Return a lazy listing of every restore job of a cluster, each once, in server order.

        Pages are requested as the listing is iterated; its ``pages_read`` and ``items_read``
        count what was read so far. Arguments are checked now, before any request. A job
        without an ``id`` in the answer raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasResponseError`.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never
            ends; fewer when the first page's ``totalCount`` justifies fewer (see
            :func:`~airflow_provider_atlas_restore.api.paging.pass_page_limit`).
        """
        group = self._project(group_id)
        path = self.api.restore_jobs_path(group, cluster_name)  # the path alone: no request built
        validate_int_range(page_size, "items_per_page", 1, MAX_ITEMS_PER_PAGE)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size
            )

        return UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=path)

    def list_restore_jobs(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        page_size: int = DEFAULT_ITEMS_PER_PAGE,
        max_items: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """
        Return every restore job of a cluster once, in server order, reading all pages.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages one pass reads before giving up on a server that never
            ends; fewer when the first page's ``totalCount`` justifies fewer (see
            :func:`~airflow_provider_atlas_restore.api.paging.pass_page_limit`).
        """
        listing = self.iter_restore_jobs(
            cluster_name, group_id, page_size=page_size, max_items=max_items, max_pages=max_pages
        )
        jobs = list(listing)
        self.log.info(
            "Read %d restore jobs of cluster %s in %d pages", len(jobs), cluster_name, listing.pages_read
        )
        return jobs

    def get_restore_job(
        self, cluster_name: str, restore_job_id: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """
        Return one restore job as Atlas describes it (all fields kept).

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.get_restore_job_request(self._project(group_id), cluster_name, restore_job_id)
        return mask_delivery_urls(expect_mapping(request, 200, self.run(request)))

    def create_restore_job(
        self,
        cluster_name: str,
        delivery_type: str | RestoreJobSpec,
        group_id: str | None = None,
        *,
        snapshot_id: str | None = None,
        target_cluster_name: str | None = None,
        target_group_id: str | None = None,
        point_in_time_utc_seconds: int | None = None,
        oplog_ts: int | None = None,
        oplog_inc: int | None = None,
    ) -> dict[str, Any]:
        """
        Start a restore and return the new job; what each delivery type needs is checked first.

        ``automated`` and ``pointInTime`` restores overwrite the target cluster's data. A create
        is not retried after a 5xx or a lost answer, since the job may exist already: only 429
        (refused before anything happened) and connection failures before sending are retried.

        :param cluster_name: the cluster whose snapshot is restored.
        :param delivery_type: ``download``, ``automated`` or ``pointInTime``; or a whole
            :class:`~airflow_provider_atlas_restore.api.bodies.RestoreJobSpec`, given without the
            keyword arguments below.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param snapshot_id: the snapshot to restore (``download`` and ``automated``).
        :param target_cluster_name: the cluster to overwrite (``automated``, ``pointInTime``).
        :param target_group_id: the target cluster's project (``automated``, ``pointInTime``).
        :param point_in_time_utc_seconds: the moment to restore to (``pointInTime``).
        :param oplog_ts: the oplog timestamp to restore to, with ``oplog_inc`` (``pointInTime``).
        :param oplog_inc: the operation number within ``oplog_ts`` (``pointInTime``).
        """
        spec = restore_job_spec(
            delivery_type,
            snapshot_id=snapshot_id,
            target_cluster_name=target_cluster_name,
            target_group_id=target_group_id,
            point_in_time_utc_seconds=point_in_time_utc_seconds,
            oplog_ts=oplog_ts,
            oplog_inc=oplog_inc,
        )
        request = self.api.create_restore_job_request(self._project(group_id), cluster_name, spec.to_body())
        job = expect_mapping(request, 200, self.run(request, retry_if=is_safe_to_repeat_create))
        self.log.info(
            "Created %s restore job %s of cluster %s", spec.delivery_type, job.get("id"), cluster_name
        )
        return mask_delivery_urls(job)

    def cancel_restore_job(self, cluster_name: str, restore_job_id: str, group_id: str | None = None) -> None:
        """
        Cancel a restore job; raise a clear :class:`AtlasApiError` (405) when Atlas refuses.

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        """
        request = self.api.cancel_restore_job_request(self._project(group_id), cluster_name, restore_job_id)
        try:
            self.run(request)
        except AtlasApiError as error:
            if error.status == 405:
                raise AtlasApiError(
                    status=405,
                    method=error.method,
                    path=error.path,
                    error_code=error.error_code,
                    reason=error.reason,
                    parameters=error.parameters,
                    # What can be cancelled is the 405 advice, added after this detail.
                    detail=(
                        f"Atlas refuses to cancel restore job {restore_job_id} of cluster {cluster_name}"
                        + (f" ({error.detail.strip().rstrip('.')})" if error.detail else "")
                    ),
                ) from None
            raise
        self.log.info("Cancelled restore job %s of cluster %s", restore_job_id, cluster_name)

    def get_snapshots_page(
        self,
        cluster_name: str,
        group_id: str | None = None,
        *,
        sharded: bool = False,
        page_num: int = 1,
        items_per_page: int = DEFAULT_ITEMS_PER_PAGE,
    ) -> Page:
        """
        Return one page of a cluster's snapshots, newest first.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots.
        :param page_num: the page, from 1.
        :param items_per_page: snapshots per page, 1 to 500.
        """
        request = self.api.list_snapshots_request(
            self._project(group_id),
            cluster_name,
            sharded=validate_flag(sharded, "sharded"),
            page_num=page_num,
            items_per_page=items_per_page,
        )
        return Page.from_body(request, self.run(request), page_num, items_per_page)

    def list_snapshots(
        self, cluster_name: str, group_id: str | None = None, *, sharded: bool = False
    ) -> list[dict[str, Any]]:
        """
        Return every snapshot of a cluster once, newest first, reading all pages.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: list a sharded cluster's snapshots.
        """
        group = self._project(group_id)
        path = self.api.snapshots_path(group, cluster_name, sharded=validate_flag(sharded, "sharded"))

        def fetch_page(page_num: int) -> Page:
            return self.get_snapshots_page(cluster_name, group, sharded=sharded, page_num=page_num)

        return list(UniqueItems(fetch_page, path=path))

    def latest_completed_snapshot(
        self, cluster_name: str, group_id: str | None = None, *, sharded: bool | None = None
    ) -> dict[str, Any]:
        """
        Return the newest snapshot whose status is ``completed``, or raise :class:`AtlasSnapshotNotFoundError`.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param sharded: whether the cluster is sharded; ``None`` looks at replica-set snapshots
            first and at sharded-cluster snapshots when there are none.
        """
        kinds = [validate_flag(sharded, "sharded")] if sharded is not None else [False, True]
        seen = 0
        for kind in kinds:
            snapshots = self.list_snapshots(cluster_name, group_id, sharded=kind)
            seen += len(snapshots)
            latest = newest_completed(snapshots)
            if latest is not None:
                self.log.info(
                    "Newest completed snapshot of cluster %s is %s, taken %s",
                    cluster_name,
                    latest.get("id"),
                    latest.get("createdAt"),
                )
                return latest
            if snapshots:
                break
        raise AtlasSnapshotNotFoundError(
            f"Cluster {cluster_name} has no completed snapshot ({seen} snapshots, none completed): "
            "take an on-demand snapshot or wait for the next scheduled one."
        )
