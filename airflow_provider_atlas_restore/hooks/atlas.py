"""The hook for MongoDB Atlas Cloud Backup restore jobs and snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook, mask_secret

from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasRequests
from airflow_provider_atlas_restore.api.responses import AccessToken, expect_mapping
from airflow_provider_atlas_restore.api.validation import (
    validate_group_id_or_default,
    validate_object_id,
)
from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig
from airflow_provider_atlas_restore.client.connection_check import check_connection
from airflow_provider_atlas_restore.client.requests_transport import api_session, send_attempt
from airflow_provider_atlas_restore.client.retry import RetryPolicy, is_retryable
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
    AtlasInputError,
)
from airflow_provider_atlas_restore.get_provider_info import UI_FIELD_BEHAVIOUR
from airflow_provider_atlas_restore.hooks.backup_operations import BackupOperations
from airflow_provider_atlas_restore.hooks.restore_job_waits import RestoreJobWaitOperations
from airflow_provider_atlas_restore.hooks.snapshots import SnapshotOperations
from airflow_provider_atlas_restore.masking import mask_delivery_urls

if TYPE_CHECKING:
    import logging

    import requests

    from airflow_provider_atlas_restore.download.downloader import SnapshotDownloader

__all__ = ["AtlasHook", "describe_transport_error", "mask_delivery_urls"]


class AtlasHook(RestoreJobWaitOperations, BackupOperations, SnapshotOperations, BaseHook):
    """
    Call the MongoDB Atlas Administration API (v2 by default, or v1.0) for Cloud Backup restores.

    The API operations come in groups, a module each: restore jobs
    (:class:`~.restore_jobs.RestoreJobOperations`, and for tasks that wait
    :class:`~.restore_job_waits.RestoreJobWaitOperations`) and snapshots
    (:class:`~.snapshots.SnapshotOperations`). This class holds what they share: the connection,
    the session, the service-account tokens and :meth:`run`.

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
        Return the checked ``group_id``, or the connection's ``group_id`` extra when it is ``None`` or ``""``.

        Any other value that is not a 24-hex id (``0``, ``[]``, ``b""`` included) is an
        :class:`~airflow_provider_atlas_restore.exceptions.AtlasInputError`, never a silent default.

        :param group_id: the project id given by the caller, or ``None``.
        """
        resolved = validate_group_id_or_default(group_id) or self.config.group_id
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
