"""AtlasHook collection restores over the emulator: create (201) once, read, list, per-collection states."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.api.collection_restore_bodies import CollectionRestoreSpec
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasInputError
from airflow_provider_atlas_restore.hooks.atlas import AtlasHook
from airflow_provider_atlas_restore.models.collection_restore_job import (
    CollectionRestoreState,
    evaluate_collection_restore_job,
)
from airflow_provider_atlas_restore.models.wait import WaitStatus


@pytest.fixture
def emulator_hook(emulator_connection, sleeps):
    atlas_hook = AtlasHook(emulator_connection)
    atlas_hook.sleep = sleeps.append
    yield atlas_hook
    atlas_hook.close()


@pytest.fixture
def spec(atlas_emulator):
    seed = atlas_emulator.seed
    return CollectionRestoreSpec(
        target_cluster_name="Cluster0",
        target_group_id=seed.group_id,
        collections=[{"source": "sales.orders", "target": "staging.orders"}],
        databases=["crm"],
        snapshot_id=seed.snapshot_id,
    )


@pytest.fixture
def timed(atlas_emulator):
    timings = atlas_emulator.backup_timings
    timings.collection_restore_initializing = 10
    timings.collection_restore_in_progress = 100
    return atlas_emulator


def test_job_goes_from_initializing_to_successful_with_its_collections(emulator_hook, timed, spec):
    created = emulator_hook.create_collection_restore_job("Cluster0", spec)
    early = emulator_hook.list_restored_collections("Cluster0", created["id"])
    timed.clock.advance(60)
    halfway = emulator_hook.get_collection_restore_job("Cluster0", created["id"])
    timed.clock.advance(60)
    done = emulator_hook.get_collection_restore_job("Cluster0", created["id"])
    collections = emulator_hook.list_restored_collections("Cluster0", created["id"])

    assert created["state"] == "INITIALIZING"
    assert early == []
    outcome = evaluate_collection_restore_job(halfway, cluster_name="Cluster0", job_id=created["id"])
    assert outcome.status is WaitStatus.PENDING
    assert "documents restored (50%)" in outcome.message
    assert (
        evaluate_collection_restore_job(done, cluster_name="Cluster0").state
        is CollectionRestoreState.SUCCESSFUL
    )
    assert sorted(item["sourceNamespace"] for item in collections) == [
        "crm.customers",
        "crm.orders",
        "sales.orders",
    ]
    assert [job["id"] for job in emulator_hook.list_collection_restore_jobs("Cluster0")] == [created["id"]]
    assert timed.stats.count(route="create_collection_restore_job", status=201) == 1


def test_failed_job_lists_failed_collections_by_state(emulator_hook, timed, spec):
    created = emulator_hook.create_collection_restore_job("Cluster0", spec)
    timed.clock.advance(20)
    timed.fail_collection_restore_job(
        timed.seed.group_id,
        "Cluster0",
        created["id"],
        "Out of disk.",
        collection_states={"crm.customers": "FAILED"},
    )

    job = emulator_hook.get_collection_restore_job("Cluster0", created["id"])
    failed = emulator_hook.list_restored_collections("Cluster0", created["id"], state="FAILED")
    outcome = evaluate_collection_restore_job(job, cluster_name="Cluster0", collections=failed)

    # crm.orders was being restored when the job failed; crm.customers was forced to FAILED.
    assert [item["sourceNamespace"] for item in failed] == ["crm.orders", "crm.customers"]
    assert outcome.status is WaitStatus.FAILED
    assert "Out of disk; collections not restored: crm.orders FAILED, crm.customers FAILED" in outcome.message


def test_many_collections_are_read_across_pages(emulator_hook, atlas_emulator):
    seed = atlas_emulator.seed
    job = atlas_emulator.add_collection_restore_job(
        seed.group_id,
        "Cluster0",
        {
            "snapshotId": seed.snapshot_id,
            "targetClusterName": "Cluster0",
            "targetGroupId": seed.group_id,
            "indexStrategy": "ALL",
            "writeStrategy": "CREATE_NEW",
            "collections": [{"sourceNamespace": f"db.c{i}"} for i in range(100)],
            "databases": [{"sourceNamespace": f"d{i}"} for i in range(100)],
        },
    )

    collections = emulator_hook.list_restored_collections("Cluster0", job["id"], page_size=120)

    assert len({item["sourceNamespace"] for item in collections}) == len(collections) == 300
    assert atlas_emulator.stats.count(route="list_restored_collections", status=200) == 3


def test_create_is_not_repeated_after_a_lost_answer(emulator_hook, atlas_emulator, spec):
    atlas_emulator.faults.add(route="create_collection_restore_job", kind="status", status=502)

    with pytest.raises(AtlasApiError, match="502"):
        emulator_hook.create_collection_restore_job("Cluster0", spec)

    assert atlas_emulator.stats.count(route="create_collection_restore_job", status=502) == 1
    assert emulator_hook.list_collection_restore_jobs("Cluster0") == []


def test_atlas_refusal_is_a_clear_api_error(emulator_hook, atlas_emulator, spec):
    other = CollectionRestoreSpec(
        target_cluster_name="Missing",
        target_group_id=atlas_emulator.seed.group_id,
        collections=["sales.orders"],
        snapshot_id=atlas_emulator.seed.snapshot_id,
    )

    with pytest.raises(AtlasApiError, match="CLUSTER_NOT_FOUND"):
        emulator_hook.create_collection_restore_job("Cluster0", other)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda hook, spec: hook.create_collection_restore_job("Cluster0", {"collections": []}),
            "CollectionRestoreSpec",
        ),
        (
            lambda hook, spec: hook.create_collection_restore_job(
                "Cluster0",
                CollectionRestoreSpec("Cluster0", "0" * 24, collections=["orders"], snapshot_id="0" * 24),
            ),
            "is not a collection namespace",
        ),
        (
            lambda hook, spec: hook.get_collection_restore_job("Cluster0", "x"),
            "collection_restore_job_id='x'",
        ),
        (
            lambda hook, spec: hook.list_restored_collections("Cluster0", "0" * 24, state="DONE"),
            "state='DONE'",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(emulator_hook, atlas_emulator, spec, call, message):
    emulator_hook.get_project()
    atlas_emulator.stats.reset()

    with pytest.raises(AtlasInputError, match=message):
        call(emulator_hook, spec)

    assert atlas_emulator.stats.count() == 0
