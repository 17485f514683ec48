"""When and how long to retry a failed call to Atlas; shared by the sync hook and the async trigger."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import tenacity
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError, AtlasTransportError

#: Statuses that a later attempt can cure: rate limits and server-side trouble.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: A download link's host may also time the request out (408); the link stays valid meanwhile.
DOWNLOAD_RETRYABLE_STATUSES = RETRYABLE_STATUSES | {408}


def is_retryable(error: BaseException) -> bool:
    """
    Return whether another attempt may succeed where ``error`` failed.

    :param error: the exception raised by one attempt.
    """
    if isinstance(error, AtlasTransportError):
        return True
    return isinstance(error, AtlasApiError) and error.status in RETRYABLE_STATUSES


def is_safe_to_repeat_create(error: BaseException) -> bool:
    """
    Return whether a request that creates something may be sent again after ``error``.

    A 429 was refused before anything happened, and a connection that was never made carried
    nothing; after a 5xx or a lost answer the job may exist already, so repeating could start a
    second restore.

    :param error: the exception raised by one attempt.
    """
    if isinstance(error, AtlasTransportError):
        return not error.request_sent
    return isinstance(error, AtlasApiError) and error.status == 429


class _WaitForRetryAfterOrBackoff(wait_base):
    """Wait exponentially with jitter, and never less than the server's ``Retry-After``."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.backoff = wait_exponential_jitter(initial=initial, max=maximum, jitter=initial)

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = float(self.backoff(retry_state))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        return max(backoff, float(retry_after)) if retry_after is not None else backoff


class _StopWhenWaitingTooLong(stop_base):
    """Stop when the next wait would take the total time spent waiting past the budget."""

    def __init__(self, max_total_wait: float) -> None:
        self.max_total_wait = max_total_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + (retry_state.upcoming_sleep or 0.0) > self.max_total_wait


def _positive_number(value: Any, name: str, *, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or number < (1 if integer else 0):
        kind = "a whole number of at least 1" if integer else "a number of seconds, 0 or more"
        raise AtlasInputError(f"{name}={value!r} is not allowed: it must be {kind}.")
    return number


@dataclass(frozen=True)
class RetryPolicy:
    """
    Bounds for retrying connection errors, timeouts, 429 and 5xx answers.

    :param max_attempts: attempts in all, the first included.
    :param initial_wait: seconds before the first retry; doubles each time, with jitter.
    :param max_wait: the longest single backoff wait (a longer ``Retry-After`` is still honoured).
    :param max_total_wait: seconds spent waiting across all retries of one call; no retry goes past it.
    """

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    max_total_wait: float = 300.0

    #: Connection extras (and hook arguments) that set each field.
    EXTRA_KEYS = {
        "retry_max_attempts": "max_attempts",
        "retry_initial_wait": "initial_wait",
        "retry_max_wait": "max_wait",
        "retry_max_total_wait": "max_total_wait",
    }

    def __post_init__(self) -> None:
        _positive_number(self.max_attempts, "retry_max_attempts", integer=True)
        for name in ("initial_wait", "max_wait", "max_total_wait"):
            _positive_number(getattr(self, name), f"retry_{name}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RetryPolicy:
        """
        Build a policy from connection extras or hook arguments named ``retry_*``; others are ignored.

        :param settings: a mapping such as the connection's extras; ``None`` values are skipped.
        """
        values: dict[str, Any] = {}
        for key, field_name in cls.EXTRA_KEYS.items():
            if settings.get(key) is not None:
                values[field_name] = _positive_number(
                    settings[key], key, integer=field_name == "max_attempts"
                )
        return cls(**values)

    def download_wait(self, attempt: int, retry_after: float | None = None) -> float:
        """
        Return the wait after failed download attempt ``attempt``: doubling, capped, no jitter.

        API calls add jitter (many tasks and triggers call one API); one file's requests do not
        compete with each other, so a download waits the plain doubling. A longer ``Retry-After``
        is honoured.

        :param attempt: the attempt that failed, from 1.
        :param retry_after: the server's ``Retry-After`` in seconds, if any.
        """
        wait = float(min(self.max_wait, self.initial_wait * 2.0 ** (attempt - 1)))
        return max(wait, retry_after) if retry_after is not None else wait

    def spent(self, attempt: int, waited: float, wait: float) -> bool:
        """
        Return whether no attempt may follow ``attempt``: attempts used up, or the wait budget.

        :param attempt: the attempt that failed, from 1.
        :param waited: seconds already waited across this call's retries.
        :param wait: the next wait.
        """
        return attempt >= self.max_attempts or waited + wait > self.max_total_wait

    def _arguments(
        self, log: logging.Logger | Any, retry_if: Callable[[BaseException], bool] = is_retryable
    ) -> dict[str, Any]:
        def log_retry(retry_state: RetryCallState) -> None:
            error = retry_state.outcome.exception() if retry_state.outcome else None
            log.warning(
                "Retrying in %.1f s (attempt %d of %d failed): %s",
                retry_state.upcoming_sleep,
                retry_state.attempt_number,
                self.max_attempts,
                error,
            )

        return {
            "retry": retry_if_exception(retry_if),
            "wait": _WaitForRetryAfterOrBackoff(self.initial_wait, self.max_wait),
            "stop": stop_after_attempt(self.max_attempts) | _StopWhenWaitingTooLong(self.max_total_wait),
            "before_sleep": log_retry,
            "reraise": True,
        }

    def retrying(
        self,
        *,
        log: logging.Logger | Any,
        sleep: Callable[[float], None],
        retry_if: Callable[[BaseException], bool] = is_retryable,
    ) -> tenacity.Retrying:
        """
        Return a tenacity controller for blocking calls.

        :param log: where each retry is logged, with its reason.
        :param sleep: how to wait (injected by tests so nothing really sleeps).
        :param retry_if: which errors are worth another attempt.
        """
        return tenacity.Retrying(sleep=sleep, **self._arguments(log, retry_if))

    def async_retrying(
        self, *, log: logging.Logger | Any, sleep: Callable[[float], Awaitable[None]]
    ) -> tenacity.AsyncRetrying:
        """
        Return a tenacity controller for coroutines, with the same rules as :meth:`retrying`.

        The controller may serve calls made one after another; each call keeps its own state, except
        tenacity's thread-local bookkeeping, so a call nested in another needs ``copy()``.

        :param log: where each retry is logged, with its reason.
        :param sleep: how to wait without blocking the event loop, usually ``asyncio.sleep``.
        """
        return tenacity.AsyncRetrying(sleep=sleep, **self._arguments(log))
