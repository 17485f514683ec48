"""Ready-made emulator contents for the pytest fixture, the CLI and demos."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator

__all__ = ["Seed", "seed_basic", "seed_demo", "seed_export_bucket", "seed_flex"]

#: The export bucket the demo's export example writes into (``make demo DEMO=export``).
DEMO_EXPORT_BUCKET = "atlas-demo-exports"

_DAY = 86_400.0


@dataclass
class Seed:
    """What a seeding function created: ids to use in tests and DAGs."""

    group_id: str
    cluster_name: str
    snapshots: list[dict[str, Any]]
    sharded_cluster_name: str | None = None
    sharded_snapshots: list[dict[str, Any]] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    flex_cluster_name: str | None = None
    flex_snapshots: list[dict[str, Any]] = field(default_factory=list)  # oldest first, as Atlas lists them
    export_bucket_id: str | None = None
    export_bucket_name: str | None = None

    @property
    def snapshot_ids(self) -> list[str]:
        """Ids of the replica-set snapshots, newest first."""
        return [snap["id"] for snap in self.snapshots]

    @property
    def snapshot_id(self) -> str:
        """Id of the newest replica-set snapshot."""
        return self.snapshot_ids[0]


def seed_basic(emu: AtlasEmulator, snapshots: int = 3, size_bytes: int = 10_000) -> Seed:
    """Create project ``demo`` with replica set ``Cluster0`` and daily completed snapshots.

    :param emu: the emulator.
    :param snapshots: number of snapshots, one a day, the newest one hour ago.
    :param size_bytes: size of each snapshot's download archive.
    """
    group_id = emu.add_project(name="demo")
    emu.add_cluster(group_id, "Cluster0")
    now = emu.clock.now()
    created = [
        emu.add_snapshot(group_id, "Cluster0", created_at=now - 3600 - i * _DAY, size_bytes=size_bytes)
        for i in reversed(range(snapshots))
    ]
    seed = Seed(group_id=group_id, cluster_name="Cluster0", snapshots=created[::-1])
    emu.seed = seed
    return seed


def seed_flex(
    emu: AtlasEmulator, seed: Seed, name: str = "Flex0", snapshots: int = 3, size_bytes: int = 10_000
) -> Seed:
    """Add flex cluster ``name`` with daily COMPLETED flex snapshots to a seeded project.

    :param emu: the emulator.
    :param seed: what :func:`seed_basic` or :func:`seed_demo` created; updated and returned.
    :param name: the flex cluster's name.
    :param snapshots: number of snapshots, one a day, the newest one hour ago.
    :param size_bytes: size of the ``.tgz`` each snapshot's ``snapshotUrl`` serves.
    """
    emu.add_flex_cluster(seed.group_id, name)
    now = emu.clock.now()
    seed.flex_cluster_name = name
    seed.flex_snapshots = [
        emu.add_flex_snapshot(seed.group_id, name, created_at=now - 3600 - i * _DAY, size_bytes=size_bytes)
        for i in reversed(range(snapshots))
    ]
    return seed


def seed_export_bucket(
    emu: AtlasEmulator, seed: Seed, bucket_name: str = DEMO_EXPORT_BUCKET, cloud_provider: str = "AWS"
) -> Seed:
    """Add an export bucket to a seeded project, for snapshot exports.

    :param emu: the emulator.
    :param seed: what :func:`seed_basic` or :func:`seed_demo` created; updated and returned.
    :param bucket_name: the bucket (or Azure container) name.
    :param cloud_provider: ``AWS``, ``GCP`` or ``AZURE``.
    """
    bucket = emu.add_export_bucket(seed.group_id, bucket_name, cloud_provider)
    seed.export_bucket_id, seed.export_bucket_name = str(bucket["_id"]), bucket_name
    return seed


def seed_demo(
    emu: AtlasEmulator, size_bytes: int = 1 << 20, flex: bool = False, export_bucket: str | None = None
) -> Seed:
    """:func:`seed_basic` plus sharded cluster ``Sharded0`` and a few finished restore jobs.

    :param emu: the emulator.
    :param size_bytes: size of each download archive.
    :param flex: also add flex cluster ``Flex0`` with snapshots and a finished flex restore (:func:`seed_flex`).
    :param export_bucket: also add an AWS export bucket of this name (:func:`seed_export_bucket`).
    """
    seed = seed_basic(emu, size_bytes=size_bytes)
    emu.add_cluster(seed.group_id, "Sharded0", sharded=True, shards=2)
    now = emu.clock.now()
    seed.sharded_cluster_name = "Sharded0"
    seed.sharded_snapshots = [
        emu.add_snapshot(seed.group_id, "Sharded0", created_at=now - 3600 - i * _DAY, size_bytes=size_bytes)
        for i in range(2)
    ]
    for kind in ("automated", "download"):
        job = emu.add_restore_job(
            seed.group_id, seed.cluster_name, delivery_type=kind, snapshot_id=seed.snapshot_ids[-1]
        )
        seed.job_ids.append(job["id"])
    if flex:
        seed_flex(emu, seed, "Flex0", size_bytes=size_bytes)
        restore = emu.add_flex_restore_job(seed.group_id, "Flex0", seed.flex_snapshots[0]["id"])
        seed.job_ids.append(restore["id"])
    if export_bucket is not None:
        seed_export_bucket(emu, seed, export_bucket)
    return seed
