"""The connection form's Test button: real calls with a quick retry, and a message that says which step failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_atlas_restore.api.paging import Page, UniqueItems
from airflow_provider_atlas_restore.api.validation import MAX_ITEMS_PER_PAGE, validate_object_id
from airflow_provider_atlas_restore.client.retry import RetryPolicy
from airflow_provider_atlas_restore.client.tokens import SERVICE_ACCOUNT

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

#: Retries of ``test_connection``, which answers a person waiting in the UI.
TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, initial_wait=1.0, max_wait=2.0, max_total_wait=5.0)
#: Projects ``test_connection`` counts at most (ten pages) when the connection has no default project.
TEST_CONNECTION_MAX_PROJECTS = 5000


def check_connection(hook: AtlasHook) -> tuple[bool, str]:
    """
    Check the credentials with real calls and say which step failed.

    A service account first gets a token. Then, with a default project (the ``group_id``
    extra), the project is read; without one, the projects the key can see are listed and
    counted. Messages never name the connection id: the UI's Test button uses a temporary one.

    :param hook: the hook of the connection to check.
    """
    try:
        group_id = hook.config.group_id
        uses_token = hook.config.auth_type == SERVICE_ACCOUNT
        if group_id is not None:
            validate_object_id(group_id, "group_id")
    except Exception as error:
        return False, _without_conn_id(hook, f"{type(error).__name__}: {error}")
    # Someone is waiting on the form: one quick retry, not minutes of backoff.
    if uses_token:
        try:
            hook.tokens.get(lambda: hook.fetch_token(TEST_CONNECTION_RETRY))
        except Exception as error:
            return False, _without_conn_id(hook, f"Could not get a service-account token: {error}")
    try:
        if group_id is None:
            count, more = _count_projects(hook)
        else:
            project = hook.get_project(group_id, retry=TEST_CONNECTION_RETRY)
    except Exception as error:
        step = "Got a service-account token, but the API call failed" if uses_token else "The API call failed"
        return False, _without_conn_id(hook, f"{step}: {error}")
    version = hook.config.api_version
    if group_id is None:
        counted = f"{count}+" if more else str(count)
        noun = "project" if count == 1 and not more else "projects"
        return True, (
            f"Connected to Atlas with API {version}: the credentials can see {counted} {noun}. "
            "No default project (group_id extra) is set, so tasks must pass group_id."
        )
    name = project.get("name", group_id)
    return True, f"Connected to Atlas project {name!r} ({group_id}) with API {version}."


def _count_projects(hook: AtlasHook) -> tuple[int, bool]:
    """Count the projects the credentials can see (``GET /groups``, every page up to a cap).

    Returns the count and whether more projects exist beyond the cap.
    """
    items_per_page = MAX_ITEMS_PER_PAGE

    def fetch_page(page_num: int) -> Page:
        request = hook.api.list_projects_request(page_num=page_num, items_per_page=items_per_page)
        return Page.from_body(
            request, hook.run(request, retry=TEST_CONNECTION_RETRY), page_num, items_per_page
        )

    projects = UniqueItems(fetch_page, max_items=TEST_CONNECTION_MAX_PROJECTS + 1, path="/groups")
    count = sum(1 for _ in projects)
    return min(count, TEST_CONNECTION_MAX_PROJECTS), count > TEST_CONNECTION_MAX_PROJECTS


def _without_conn_id(hook: AtlasHook, message: str) -> str:
    """Drop the connection id from a message (the Test button's id is random and temporary)."""
    return message.replace(f"connection {hook.atlas_conn_id!r}", "the connection").replace(
        hook.atlas_conn_id, "the connection"
    )
