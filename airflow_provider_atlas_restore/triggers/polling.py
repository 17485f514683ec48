"""
The poll loop every Atlas trigger shares: look at one resource until it is done or failed, or the time is up.

A trigger names what it watches as a :class:`WatchedResource` (how to read it and how to judge
an answer, the judging in :mod:`~airflow_provider_atlas_restore.models`); the loop, the retry
rules, the shared clients of the triggerer and the single event are here. Restore jobs of both
cluster kinds plug in today; snapshots, export jobs or collection restores plug in the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_atlas_restore.client.async_client import AtlasAsyncClient, load_connection_config
from airflow_provider_atlas_restore.client.retry import is_retryable
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.models import WaitStatus

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.endpoints import ApiRequest, AtlasRequests
    from airflow_provider_atlas_restore.models import WaitOutcome


class WatchedResource(Protocol):
    """One Atlas resource a trigger waits for: how to read it and how to judge what was read."""

    @property
    def label(self) -> str:
        """Return what names the resource in messages, such as ``Restore job 6a79... of cluster c1``."""

    def request(self, api: AtlasRequests) -> ApiRequest:
        """
        Return the read of the resource.

        :param api: the request builder of the connection's API version.
        """

    def evaluate(self, answer: Mapping[str, Any], now: datetime) -> WaitOutcome:
        """
        Return whether waiting is over for this answer, and how.

        :param answer: the resource as Atlas returned it.
        :param now: the current time (aware, UTC).
        """


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
                    self.log.info("%s Waited %.0f s.", outcome.message, time.monotonic() - started)
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
