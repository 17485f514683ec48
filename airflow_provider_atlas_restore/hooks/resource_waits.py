"""The wait of :class:`~.atlas.AtlasHook` for any Atlas resource that moves through states, in the worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.client.retry import is_retryable
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.models import WaitOutcome, WaitStatus

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.api.watched_resources import WatchedResource
    from airflow_provider_atlas_restore.models.resource_state import ResourceState
    from airflow_provider_atlas_restore.models.restore_job import RestoreJobState


class ResourceWaitOperations(HookOperations):
    """Waiting in the worker (poke mode) by the rules a trigger waits by in the triggerer."""

    def read_watched_resource(self, resource: WatchedResource) -> dict[str, Any]:
        """
        Return the resource as Atlas describes it now (one read, with the hook's retries).

        :param resource: what to read.
        """
        request = resource.request(self.api)
        return expect_mapping(request, 200, self.run(request))

    def wait_for_resource(
        self,
        resource: WatchedResource,
        *,
        poll_interval: float,
        timeout: float,
        first_state: RestoreJobState | ResourceState,
        sleep: Callable[[float], None] = time.sleep,
        read: Callable[[], dict[str, Any]] | None = None,
    ) -> tuple[WaitOutcome, dict[str, Any] | None]:
        """
        Look at ``resource`` every ``poll_interval`` seconds until it is done or failed, or ``timeout`` has passed.

        A look without a usable answer (connection errors, timeouts, 429 and 5xx, after the hook's
        own retries) is logged and the next look tries again; each state is logged once (at INFO),
        a look that changes nothing only at DEBUG; 401, 403 and 404 raise. Return the
        last verdict (``PENDING`` when the time ran out) and the resource as last read (``None``
        if never read). With ``timeout=0`` it looks once.

        :param resource: what to wait for; its ``evaluate`` judges each answer.
        :param poll_interval: seconds between two looks.
        :param timeout: seconds after which to stop looking.
        :param first_state: the state to report if no look gets an answer.
        :param sleep: how to wait between two looks.
        :param read: how to read the resource, when not :meth:`read_watched_resource`.
        """
        started = time.monotonic()
        outcome = WaitOutcome(
            WaitStatus.PENDING, first_state, f"{resource.label}: no usable answer from Atlas yet."
        )
        answer: dict[str, Any] | None = None
        while True:
            try:
                answer = read() if read is not None else self.read_watched_resource(resource)
            except AtlasApiError as error:
                if not is_retryable(error):
                    raise
                self.log.warning(
                    "%s: no usable answer this time, trying again later: %s", resource.label, error
                )
            else:
                seen, outcome = outcome.message, resource.evaluate(answer, datetime.now(timezone.utc))
                # Each state (message) once at INFO; the same again only at DEBUG.
                level = logging.DEBUG if outcome.message == seen else logging.INFO
                self.log.log(level, "%s Waited %.0f s.", outcome.message, time.monotonic() - started)
                if outcome.status is not WaitStatus.PENDING:
                    return outcome, answer
            left = started + timeout - time.monotonic()
            if left <= 0:
                return outcome, answer
            sleep(min(poll_interval, left))
