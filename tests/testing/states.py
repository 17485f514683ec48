"""Restore jobs in every state the emulator can show, for contract and shape tests."""

from __future__ import annotations

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import Seed

LATER = 600.0


def jobs_in_every_state(emu: AtlasEmulator, seed: Seed) -> dict[str, tuple[str, str]]:
    """Create one job per state; return ``{state: (cluster, job id)}``."""
    g, rs, sh = seed.group_id, seed.cluster_name, "Sharded0"
    add = emu.add_restore_job
    now = int(emu.clock.now())
    jobs = {
        "pending": (rs, add(g, rs, ready_after=LATER)["id"]),
        "ready": (rs, add(g, rs)["id"]),
        "sharded_pending": (sh, add(g, sh, ready_after=LATER)["id"]),
        "sharded_ready": (sh, add(g, sh)["id"]),
        "automated_pending": (rs, add(g, rs, "automated", ready_after=LATER)["id"]),
        "finished": (rs, add(g, rs, "automated")["id"]),
        "point_in_time_finished": (rs, add(g, rs, "pointInTime", point_in_time_utc_seconds=now - 60)["id"]),
        "oplog_finished": (rs, add(g, rs, "pointInTime", oplog_ts=now - 60, oplog_inc=3)["id"]),
        "failed": (rs, add(g, rs, ready_after=LATER)["id"]),
        "cancelled": (rs, add(g, rs, ready_after=LATER)["id"]),
        "expired": (rs, add(g, rs)["id"]),
    }
    emu.fail_job(g, rs, jobs["failed"][1])
    emu.cancel_job(g, rs, jobs["cancelled"][1])
    emu.expire_job(g, rs, jobs["expired"][1])
    return jobs
