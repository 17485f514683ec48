"""The hook that talks to the MongoDB Atlas Administration API for restore jobs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import Any

import requests
from airflow.providers.common.compat.sdk import BaseHook, mask_secret
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.connection_config import AtlasConnectionConfig
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasConnectionError, AtlasInputError
from airflow_provider_atlas_restore.models import RestoreJob
from airflow_provider_atlas_restore.paging import MAX_PAGES, Page, UniqueItems
from airflow_provider_atlas_restore.protocol import (
    DEFAULT_ITEMS_PER_PAGE,
    ApiRequest,
    AtlasApi,
    expect_mapping,
    parse_response,
)
from airflow_provider_atlas_restore.retry import RetryPolicy
from airflow_provider_atlas_restore.validation import validate_int_range

#: Retries of ``test_connection``, which answers a person waiting in the UI.
TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, initial_wait=1.0, max_wait=2.0, max_total_wait=5.0)
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def mask_delivery_urls(job: dict[str, Any]) -> dict[str, Any]:
    """
    Register a job's download links with Airflow's secret masker, so no log line shows them.

    :param job: a restore job as Atlas returned it; returned unchanged.
    """
    view = RestoreJob.from_api(job)
    for url in view.delivery_urls + [c.download_url for c in view.components if c.download_url]:
        mask_secret(url)
    return job


def describe_transport_error(error: requests.exceptions.RequestException, read_timeout: float) -> str:
    """
    Return why no answer came, in words, without the URL that ``requests`` puts in its messages.

    :param error: the ``requests`` exception.
    :param read_timeout: the read timeout in force, for the message.
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"no answer within the read timeout of {read_timeout:g} s"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut short"
    errno_text = _ERRNO_TEXT.search(str(error))
    if errno_text:
        return f"connection failed: {errno_text.group(0).strip()}"
    return "the connection closed without an answer"


class AtlasHook(BaseHook):
    """
    Call the MongoDB Atlas Administration API (v2 by default, or v1.0) for Cloud Backup restores.

    Authenticates with an API key pair over HTTP Digest. One ``requests.Session`` and one Digest
    auth object live as long as the hook, so after the first challenge every call goes out
    already authorised: one HTTP request per API call.

    :param atlas_conn_id: the ``mongodb_atlas`` connection to use.
    :param api_version: ``v2`` or ``v1.0``; overrides the connection's ``api_version`` extra.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    :param retry_max_attempts: attempts per call, the first included (default 5).
    :param retry_initial_wait: seconds before the first retry, doubling after (default 1).
    :param retry_max_wait: the longest single backoff wait in seconds (default 60).
    :param retry_max_total_wait: seconds spent waiting across one call's retries (default 300).
    """

    conn_name_attr = "atlas_conn_id"
    default_conn_name = "mongodb_atlas_default"
    conn_type = "mongodb_atlas"
    hook_name = "MongoDB Atlas"

    def __init__(
        self,
        atlas_conn_id: str = default_conn_name,
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
        return {
            "hidden_fields": ["schema"],
            "relabeling": {"login": "Public key", "password": "Private key"},
            "placeholders": {
                "host": "cloud.mongodb.com",
                "login": "Atlas API public key",
                "password": "Atlas API private key",
                "extra": '{"timeout": 60, "retry_max_attempts": 5}',
            },
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Add the project id, API version and scheme to the connection form (Airflow 2.11)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import StringField
        from wtforms.validators import Optional, Regexp

        return {
            "group_id": StringField(
                lazy_gettext("Project (group) id"),
                widget=BS3TextFieldWidget(),
                validators=[Optional(), Regexp(r"^[a-f0-9]{24}$")],
            ),
            "api_version": StringField(
                lazy_gettext("API version (v2 or v1.0)"), widget=BS3TextFieldWidget(), default="v2"
            ),
            "scheme": StringField(
                lazy_gettext("Scheme (https, or http for an emulator)"),
                widget=BS3TextFieldWidget(),
                default="https",
            ),
        }

    @cached_property
    def config(self) -> AtlasConnectionConfig:
        """Return the connection's settings, with this hook's overrides applied."""
        connection = self.get_connection(self.atlas_conn_id)
        config = AtlasConnectionConfig.from_connection(connection, self.conn_type)
        mask_secret(config.password)
        overrides = {key: value for key, value in self._overrides.items() if value is not None}
        changes: dict[str, Any] = {}
        if "api_version" in overrides:
            changes["api_version"] = AtlasApi(overrides["api_version"]).api_version
        if "timeout" in overrides:
            timeout = overrides["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise AtlasInputError(f"timeout={timeout!r} is not allowed: use a number of seconds > 0.")
            changes["read_timeout"] = float(timeout)
        if any(key.startswith("retry_") for key in overrides):
            retry_settings = {
                key: getattr(config.retry, field_name) for key, field_name in RetryPolicy.EXTRA_KEYS.items()
            }
            retry_settings.update({k: v for k, v in overrides.items() if k.startswith("retry_")})
            changes["retry"] = RetryPolicy.from_settings(retry_settings)
        if changes:
            config = replace(config, **changes)
        if config.is_plain_http_to_remote_host:
            self.log.warning(
                "Connection %s uses plain http to %s: use https for anything but a local emulator.",
                self.atlas_conn_id,
                config.base_url,
            )
        return config

    @cached_property
    def api(self) -> AtlasApi:
        """Return the request builder for the configured API version."""
        return AtlasApi(self.config.api_version)

    def get_conn(self) -> requests.Session:
        """Return the hook's session, created once with its Digest auth, TLS and proxy settings."""
        if self._session is None:
            config = self.config
            session = requests.Session()
            session.auth = HTTPDigestAuth(config.login, config.password)
            session.verify = config.verify
            session.proxies.update(config.proxies)
            session.headers["User-Agent"] = f"airflow-provider-atlas-restore/{_version()}"
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

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
        return resolved

    def run(self, request: ApiRequest, *, retry: RetryPolicy | None = None) -> Any:
        """
        Send ``request`` with retries and return the parsed answer, or raise :class:`AtlasApiError`.

        :param request: a request built by :class:`~airflow_provider_atlas_restore.protocol.AtlasApi`.
        :param retry: the retry policy for this call; defaults to the connection's.
        """
        retrying = (retry or self.config.retry).retrying(log=self.log, sleep=self.sleep)
        return retrying(self._send_once, request)

    def _send_once(self, request: ApiRequest) -> Any:
        config = self.config
        session = self.get_conn()
        try:
            response = session.request(
                request.method,
                request.url(config.base_url),
                headers=dict(request.headers),
                data=request.content,
                timeout=(config.connect_timeout, config.read_timeout),
            )
        except _TRANSPORT_ERRORS as error:
            raise AtlasConnectionError(
                status=None,
                method=request.method,
                path=request.path,
                detail=f"{describe_transport_error(error, config.read_timeout)} ({config.base_url})",
            ) from None
        return parse_response(request, response.status_code, response.headers, response.content)

    def get_project(self, group_id: str | None = None, *, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """
        Return the project (group) as Atlas describes it.

        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param retry: the retry policy for this call; defaults to the connection's.
        """
        request = self.api.get_project(self.resolve_group_id(group_id))
        return expect_mapping(request, 200, self.run(request, retry=retry))

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

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_num: the page, from 1.
        :param items_per_page: jobs per page, 1 to 500.
        :param include_count: ask Atlas for ``totalCount``.
        :param pretty: ask Atlas for indented JSON.
        :param envelope: ask Atlas for an envelope; it is removed before the page is returned.
        """
        request = self.api.list_restore_jobs(
            self.resolve_group_id(group_id),
            cluster_name,
            page_num=page_num,
            items_per_page=items_per_page,
            include_count=include_count,
            pretty=pretty,
            envelope=envelope,
        )
        page = Page.from_body(request, self.run(request), page_num, items_per_page)
        for job in page.results:
            mask_delivery_urls(job)
        return page

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
        count what was read so far. Arguments are checked now, before any request.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param page_size: jobs per request, 1 to 500.
        :param max_items: stop after this many jobs; ``None`` for all.
        :param max_pages: the most pages to read before giving up on a server that never ends.
        """
        group = self.resolve_group_id(group_id)
        first = self.api.list_restore_jobs(group, cluster_name, items_per_page=page_size)
        if max_items is not None:
            validate_int_range(max_items, "max_items", 0)
        validate_int_range(max_pages, "max_pages", 1)

        def fetch_page(page_num: int) -> Page:
            return self.get_restore_jobs_page(
                cluster_name, group, page_num=page_num, items_per_page=page_size
            )

        return UniqueItems(fetch_page, max_items=max_items, max_pages=max_pages, path=first.path)

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
        :param max_pages: the most pages to read before giving up on a server that never ends.
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
        request = self.api.get_restore_job(self.resolve_group_id(group_id), cluster_name, restore_job_id)
        return mask_delivery_urls(expect_mapping(request, 200, self.run(request)))

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with a real call (get the project) and explain any failure."""
        try:
            group_id = self.resolve_group_id(None)
            # Someone is waiting on the form: one quick retry, not minutes of backoff.
            project = self.get_project(group_id, retry=TEST_CONNECTION_RETRY)
        except AtlasApiError as error:
            return False, str(error)
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"
        name = project.get("name", group_id)
        return True, f"Connected to Atlas project {name!r} ({group_id}) with API {self.config.api_version}."


def _version() -> str:
    from airflow_provider_atlas_restore import __version__

    return __version__
