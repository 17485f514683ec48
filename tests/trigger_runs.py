"""Run AtlasRestoreJobTriggers to their first event in one event loop, as a triggerer does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger


def new_job(emulator: Any, **arguments: Any) -> str:
    """Add a restore job on the emulator's seeded cluster (ready after an hour unless told) and return its id."""
    seed = emulator.seed
    job = emulator.add_restore_job(
        seed.group_id,
        seed.cluster_name,
        snapshot_id=seed.snapshot_ids[0],
        **{"ready_after": 3600.0, **arguments},
    )
    return str(job["id"])


def job_requests(emulator: Any, **filters: Any) -> int:
    """Return how many restore-job reads the emulator answered (filtered by status, for example)."""
    return int(emulator.stats.count(route="get_restore_job", method="GET", **filters))


def make_trigger(emulator: Any, job_id: str, **arguments: Any) -> AtlasRestoreJobTrigger:
    """Return a trigger on the emulator's seeded cluster; by default it polls every 10 ms for 30 s at most."""
    seed = emulator.seed
    defaults = {"poll_interval": 0.01, "timeout_at": time.time() + 30}
    return AtlasRestoreJobTrigger(
        atlas_conn_id="mongodb_atlas_default",
        group_id=seed.group_id,
        cluster_name=seed.cluster_name,
        restore_job_id=job_id,
        **{**defaults, **arguments},
    )


async def first_event(trigger: AtlasRestoreJobTrigger) -> dict[str, Any]:
    """Return the payload of the first event ``trigger`` yields."""
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def run_triggers(
    triggers: list[AtlasRestoreJobTrigger], beside: Callable[[], Awaitable[None]] | None = None
) -> list[dict[str, Any]]:
    """Run every trigger to its event in one loop (60 s at most), with ``beside()`` running next to them."""

    async def collect() -> list[dict[str, Any]]:
        side = asyncio.ensure_future(beside()) if beside else None
        events = await asyncio.gather(*(first_event(trigger) for trigger in triggers))
        if side:
            side.cancel()
        return list(events)

    return asyncio.run(asyncio.wait_for(collect(), timeout=60))
