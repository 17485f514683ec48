"""
The poll loop every Atlas trigger shares: look at one resource until it is done or failed, or the time is up.

A trigger names what it watches as a
:class:`~airflow_provider_atlas_restore.api.watched_resources.WatchedResource` (how to read it and
how to judge an answer; the sync hook waits for the same one); the loop, the retry rules, the
shared clients of the triggerer and the single event are here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_atlas_restore.api.watched_resources import (
    WatchedResource,
    watched_resource_from_json,
    watched_resource_to_json,
)
from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient, load_connection_config
from airflow_provider_atlas_restore.client.retry import is_retryable
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.models import WaitStatus


class AtlasPollingTrigger(BaseTrigger):
    """
    A trigger that polls one :class:`WatchedResource` and yields exactly one event.

    The event is ``{"status": "success" | "failure" | "timeout", "message", "state"}`` plus
    :meth:`event_fields`; it carries no secret. Subclasses give :meth:`watched`, :meth:`serialize`
    and the event fields; the connection is read inside the triggerer.

    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param poll_interval: seconds between two looks.
    :param timeout_at: when to give up, as seconds since the epoch; ``None`` waits without end.
    """

    def __init__(
        self, *, atlas_conn_id: str, poll_interval: float = 60.0, timeout_at: float | None = None
    ) -> None:
        super().__init__()
        self.atlas_conn_id = atlas_conn_id
        self.poll_interval = float(poll_interval)
        self.timeout_at = timeout_at

    def watched(self) -> WatchedResource:
        """Return what this trigger waits for."""
        raise NotImplementedError

    def event_fields(self) -> dict[str, Any]:
        """Return the ids every event of this trigger carries (never a secret)."""
        return {}

    def _event(self, status: str, message: str, state: str | None = None) -> TriggerEvent:
        return TriggerEvent({"status": status, "message": message, **self.event_fields(), "state": state})

    def _seconds_left(self) -> float | None:
        return None if self.timeout_at is None else self.timeout_at - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the resource is done or failed, or the time is up; yield one event."""
        try:
            config = await load_connection_config(self.atlas_conn_id)
        except Exception as error:
            yield self._event("failure", f"Cannot read connection {self.atlas_conn_id!r}: {error}")
            return
        resource = self.watched()
        started = time.monotonic()
        seen: str | None = None
        async with AtlasAsyncClient(config, logger=self.log) as client:
            request = resource.request(client.api)
            while True:
                try:
                    answer = await client.get_object(request)
                except AtlasApiError as error:
                    if not is_retryable(error):
                        yield self._event("failure", str(error))
                        return
                    self.log.warning("%s: no usable answer this time: %s", resource.label, error)
                else:
                    outcome = resource.evaluate(answer, datetime.now(timezone.utc))
                    # Each state (message) once at INFO; the same again only at DEBUG.
                    level = logging.DEBUG if outcome.message == seen else logging.INFO
                    seen = outcome.message
                    self.log.log(level, "%s Waited %.0f s.", outcome.message, time.monotonic() - started)
                    if outcome.status is WaitStatus.DONE:
                        yield self._event("success", outcome.message, outcome.state.value)
                        return
                    if outcome.status is WaitStatus.FAILED:
                        yield self._event("failure", outcome.message, outcome.state.value)
                        return
                seconds_left = self._seconds_left()
                if seconds_left is not None and seconds_left <= 0:
                    yield self._event(
                        "timeout",
                        f"{resource.label} was not ready after {time.monotonic() - started:.0f} s: the "
                        "sensor's timeout is reached.",
                    )
                    return
                wait = self.poll_interval if seconds_left is None else min(self.poll_interval, seconds_left)
                await asyncio.sleep(max(wait, 0.0))


class AtlasResourceTrigger(AtlasPollingTrigger):
    """
    Poll any watched Atlas resource (a snapshot, an export job, a collection restore job...) until it is done.

    Yields exactly one event: ``{"status": "success" | "failure" | "timeout", "message": ...,
    "resource_kind": ..., <the resource's ids>, "state": ...}``. The serialized trigger holds the
    resource's kind and ids (checked again when it is rebuilt) and settings, never a secret.

    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param resource: the resource as
        :func:`~airflow_provider_atlas_restore.api.watched_resources.watched_resource_to_json` gives it.
    :param poll_interval: seconds between two looks.
    :param timeout_at: when to give up, as seconds since the epoch; ``None`` waits without end.
    """

    def __init__(
        self,
        *,
        atlas_conn_id: str,
        resource: Mapping[str, Any],
        poll_interval: float = 60.0,
        timeout_at: float | None = None,
    ) -> None:
        super().__init__(atlas_conn_id=atlas_conn_id, poll_interval=poll_interval, timeout_at=timeout_at)
        self._watched = watched_resource_from_json(resource)
        self.resource = watched_resource_to_json(self._watched)

    def watched(self) -> WatchedResource:
        """Return the resource this trigger waits for."""
        return self._watched

    def event_fields(self) -> dict[str, Any]:
        """Return the resource's kind and ids, which the resuming task reuses."""
        return {"resource_kind": self.resource["kind"], **self.resource["fields"]}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "atlas_conn_id": self.atlas_conn_id,
                "resource": self.resource,
                "poll_interval": self.poll_interval,
                "timeout_at": self.timeout_at,
            },
        )


def resource_deferral(
    *,
    atlas_conn_id: str,
    resource: WatchedResource,
    poll_interval: float,
    deadline: float,
    method_name: str = "execute_complete",
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Return the arguments of ``BaseOperator.defer`` that wait for ``resource`` in an :class:`AtlasResourceTrigger`.

    Airflow's own time-out falls later than the trigger's, whose event says more.

    :param atlas_conn_id: the ``mongodb_atlas`` connection.
    :param resource: what to wait for.
    :param poll_interval: seconds between two looks.
    :param deadline: when to give up, as seconds since the epoch.
    :param method_name: the task's method that resumes after the event.
    :param kwargs: more keyword arguments of that method.
    """
    return {
        "trigger": AtlasResourceTrigger(
            atlas_conn_id=atlas_conn_id,
            resource=watched_resource_to_json(resource),
            poll_interval=poll_interval,
            timeout_at=deadline,
        ),
        "method_name": method_name,
        "kwargs": kwargs,
        "timeout": timedelta(seconds=max(0.0, deadline - time.time()) + max(60.0, 2 * poll_interval)),
    }
