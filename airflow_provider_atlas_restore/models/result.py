"""What the restore-job sensor returns and the download task consumes: one type, to and from XCom."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_object_id
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.restore_job import (
    RestoreComponent,
    RestoreJob,
    RestoreJobState,
    parse_timestamp,
)

_STATES = {state.value: state for state in RestoreJobState}


@dataclass(frozen=True)
class RestoreJobResult:
    """
    A restore job as the tasks hand it on: ids, state, expiry and its links by replica set.

    Its links are secret bearer links: register them with the secret masker
    (:func:`~airflow_provider_atlas_restore.masking.mask_link` each) before logging anything.

    :param restore_job_id: the validated id of the job (the one asked for, not an echoed one).
    :param cluster_name: the job's cluster.
    :param group_id: the job's project.
    :param delivery_type: ``download``, ``automated`` or ``pointInTime``, as Atlas sent it.
    :param state: the job's derived state, or ``None`` when not known.
    :param snapshot_id: the restored snapshot, as Atlas sent it.
    :param expires_at: when the download links expire.
    :param finished_at: when an automated or point-in-time restore finished.
    :param delivery_urls: the download links of a replica set's download.
    :param components: one entry per replica set of a sharded cluster's download.
    """

    restore_job_id: str | None
    cluster_name: str | None
    group_id: str | None
    delivery_type: str | None = None
    state: RestoreJobState | None = None
    snapshot_id: str | None = None
    expires_at: datetime | None = None
    finished_at: datetime | None = None
    delivery_urls: tuple[str, ...] = ()
    components: tuple[RestoreComponent, ...] = ()

    @classmethod
    def from_job(
        cls,
        job: Mapping[str, Any],
        *,
        restore_job_id: str | None,
        cluster_name: str | None,
        group_id: str | None,
    ) -> RestoreJobResult:
        """
        Read a job as the Atlas API returned it; ``restore_job_id`` is validated, the echoed id unused.

        :param job: the restore job as Atlas returned it.
        :param restore_job_id: the id of the job that was read.
        :param cluster_name: the job's cluster.
        :param group_id: the job's project.
        """
        view = RestoreJob.from_api(job)
        return cls(
            restore_job_id=None
            if restore_job_id is None
            else validate_object_id(restore_job_id, "restore_job_id"),
            cluster_name=cluster_name,
            group_id=group_id,
            delivery_type=view.delivery_type,
            state=view.state,
            snapshot_id=view.snapshot_id,
            expires_at=view.expires_at,
            finished_at=view.finished_at,
            delivery_urls=tuple(view.delivery_urls),
            components=tuple(view.components),
        )

    def to_xcom(self) -> dict[str, Any]:
        """Return the JSON dict handed downstream through XCom (the sensor's return value)."""
        return {
            "restore_job_id": self.restore_job_id,
            "cluster_name": self.cluster_name,
            "group_id": self.group_id,
            "delivery_type": self.delivery_type,
            "state": self.state.value if self.state else None,
            "snapshot_id": self.snapshot_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "delivery_urls": list(self.delivery_urls),
            "components": [
                {"replica_set_name": component.replica_set_name, "download_url": component.download_url}
                for component in self.components
            ],
        }

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> RestoreJobResult:
        """
        Read back what :meth:`to_xcom` gave, or raise :class:`AtlasInputError` naming the bad field.

        Ids are validated; a missing or empty field reads as not known; unknown keys are ignored.
        A link is never shown in an error.

        :param data: the XCom dict.
        """
        if not isinstance(data, Mapping):
            raise AtlasInputError("restore_job must be the restore-job sensor's XCom value: a dict.")
        job_id, cluster, group = (
            _present(data, key) for key in ("restore_job_id", "cluster_name", "group_id")
        )
        state = _text(data, "state")
        if state is not None and state not in _STATES:
            raise AtlasInputError(
                f"restore_job: state={state!r} is not a restore job state: it must be one of "
                + ", ".join(repr(value) for value in _STATES)
                + "."
            )
        return cls(
            restore_job_id=None if job_id is None else validate_object_id(job_id, "restore_job_id"),
            cluster_name=None if cluster is None else validate_cluster_name(cluster),
            group_id=None if group is None else validate_object_id(group, "group_id"),
            delivery_type=_text(data, "delivery_type"),
            state=_STATES[state] if state is not None else None,
            snapshot_id=_text(data, "snapshot_id"),
            expires_at=_moment(data, "expires_at"),
            finished_at=_moment(data, "finished_at"),
            delivery_urls=_links(data.get("delivery_urls"), "delivery_urls"),
            components=_components(data.get("components")),
        )


def parse_xcom_text(text: str) -> Any:
    """
    Read an XCom dict given as text: JSON, or the Python repr that Jinja renders a dict as.

    Return ``None`` when it is neither; the text is never shown, it may hold secret links.

    :param text: the rendered or pulled value.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _present(data: Mapping[str, Any], key: str) -> Any:
    """Return the value at ``key``, or ``None`` when it is missing, ``None`` or empty text."""
    value = data.get(key)
    return None if value is None or value == "" else value


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = _present(data, key)
    if value is None or isinstance(value, str):
        return value
    raise AtlasInputError(f"restore_job: {key}={value!r} is not text.")


def _moment(data: Mapping[str, Any], key: str) -> datetime | None:
    """Return the timestamp at ``key``: ISO 8601 text (as written), or seconds or milliseconds since the epoch."""
    value = _present(data, key)
    if value is None:
        return None
    moment = parse_timestamp(value)
    if moment is None:
        raise AtlasInputError(f"restore_job: {key}={value!r} is not an ISO 8601 timestamp.")
    return moment


def _links(value: Any, key: str) -> tuple[str, ...]:
    """Return a list of link strings as a tuple; the value is never shown, it may hold secrets."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise AtlasInputError(f"restore_job: {key} must be a list of download links (text).")


def _components(value: Any) -> tuple[RestoreComponent, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise AtlasInputError(
            "restore_job: components must be a list of {'replica_set_name', 'download_url'} dicts."
        )
    components = []
    for index, item in enumerate(value, start=1):
        name = _text(item, "replica_set_name")
        url = _present(item, "download_url")
        if url is not None and not isinstance(url, str):
            raise AtlasInputError(f"restore_job: the download_url of component {index} is not text.")
        components.append(RestoreComponent(replica_set_name=name, download_url=url))
    return tuple(components)
