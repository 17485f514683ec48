"""The "Atlas restores" button on a task: a link to the cluster's Backup page in the Atlas UI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_object_id

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, Context, TaskInstanceKey

#: Where the link is kept for the UI: in the task's XCom, since workers and the UI are apart.
LINK_XCOM_KEY = "atlas_restores_url"


def backup_page_url(base_url: str, group_id: str, cluster_name: str) -> str:
    """
    Return the Atlas UI page that lists a cluster's snapshots and restores.

    :param base_url: the Atlas base URL, such as ``https://cloud.mongodb.com``.
    :param group_id: the project id.
    :param cluster_name: the cluster name.
    """
    return f"{base_url.rstrip('/')}/v2/{quote(group_id, safe='')}#/clusters/backup/{quote(cluster_name, safe='')}"


class AtlasRestoresLink(BaseOperatorLink):
    """Link from a task to its cluster's Backup page (snapshots and restores) in the Atlas UI."""

    name = "Atlas restores"

    @property
    def xcom_key(self) -> str:
        """Return the XCom key under which the task stored the URL."""
        return LINK_XCOM_KEY

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Return the URL the task stored, or an empty string before it ran."""
        value: Any = XCom.get_value(key=LINK_XCOM_KEY, ti_key=ti_key)
        return value if isinstance(value, str) else ""

    @staticmethod
    def persist(context: Context, *, base_url: str, group_id: str, cluster_name: str) -> None:
        """
        Store the link for the UI; call from ``execute`` once the ids are known and checked.

        A bad id or name raises :class:`~airflow_provider_atlas_restore.exceptions.AtlasInputError`
        and stores nothing.

        :param context: the task's context.
        :param base_url: the Atlas base URL of the connection.
        :param group_id: the project id.
        :param cluster_name: the cluster name.
        """
        url = backup_page_url(
            base_url, validate_object_id(group_id, "group_id"), validate_cluster_name(cluster_name)
        )
        task_instance: Any = context.get("ti")
        if task_instance is not None:  # absent when execute() is called by hand, as in unit tests
            task_instance.xcom_push(key=LINK_XCOM_KEY, value=url)
