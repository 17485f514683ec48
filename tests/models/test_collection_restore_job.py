"""Collection restore jobs: states, document progress, failed collections named, XCom."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.collection_restore_job import (
    NAMED_FAILURES,
    CollectionRestoreJob,
    CollectionRestoreResult,
    CollectionRestoreState,
    RestoredCollection,
    RestoredCollectionState,
    evaluate_collection_restore_job,
)
from airflow_provider_atlas_restore.models.wait import WaitStatus

JOB_ID = "32b6e34b3d91647abb20e7b8"
#: The spec's example answer (nothing is recorded for collection restores).
SPEC_EXAMPLE = {
    "id": JOB_ID,
    "state": "IN_PROGRESS",
    "restoredDocuments": 15500,
    "totalDocuments": 20000,
    "indexStatus": {"failedCollectionCount": 0, "state": "IN_PROGRESS"},
    "targetClusterName": "targetCluster",
    "createdAt": "2026-07-07T12:00:00Z",
}


def test_progress_is_in_the_waiting_message():
    outcome = evaluate_collection_restore_job(SPEC_EXAMPLE, cluster_name="C0")

    assert outcome.status is WaitStatus.PENDING
    assert outcome.state is CollectionRestoreState.IN_PROGRESS
    assert outcome.message == (
        f"Collection restore job {JOB_ID} of cluster C0 is IN_PROGRESS: 15,500 of 20,000 documents restored (77%)."
    )
    assert CollectionRestoreJob.from_api(SPEC_EXAMPLE).index_state == "IN_PROGRESS"


def test_success_and_canceled_spelt_with_one_l():
    done = evaluate_collection_restore_job({**SPEC_EXAMPLE, "state": "SUCCESSFUL"}, cluster_name="C0")
    canceled = evaluate_collection_restore_job({**SPEC_EXAMPLE, "state": "CANCELED"}, cluster_name="C0")

    assert done.status is WaitStatus.DONE
    assert canceled.status is WaitStatus.FAILED


def test_failure_names_atlas_error_and_the_collections_not_restored():
    collections = [
        {"sourceNamespace": "sales.orders", "state": "SUCCESSFUL"},
        {"sourceNamespace": "sales.users", "state": "NOT_FOUND"},
        {"sourceNamespace": "sales.carts", "state": "FAILED"},
    ]
    job = {**SPEC_EXAMPLE, "state": "FAILED", "errorMessage": "Target ran out of disk."}

    outcome = evaluate_collection_restore_job(job, cluster_name="C0", collections=collections)

    assert outcome.status is WaitStatus.FAILED
    assert outcome.message == (
        f"Collection restore job {JOB_ID} of cluster C0 is FAILED: Target ran out of disk; collections not "
        "restored: sales.users NOT_FOUND, sales.carts FAILED; 15,500 of 20,000 documents restored (77%)."
    )


def test_many_failed_collections_are_summed_up():
    collections = [{"sourceNamespace": f"db.c{i}", "state": "FAILED"} for i in range(NAMED_FAILURES + 3)]

    outcome = evaluate_collection_restore_job({"state": "FAILED"}, cluster_name="C0", collections=collections)

    assert "and 3 more" in outcome.message
    assert "Atlas gives no reason" in outcome.message


def test_collection_state_view():
    view = RestoredCollection.from_api(
        {"sourceNamespace": "a.b", "effectiveTargetNamespace": "a.b_1", "state": "INDEX_BUILD_FAILED"}
    )

    assert view.state is RestoredCollectionState.INDEX_BUILD_FAILED
    assert view.state.is_failure
    assert not RestoredCollectionState.ROLLBACK.is_terminal
    assert view.effective_target_namespace == "a.b_1"


def test_result_goes_through_xcom_and_back():
    result = CollectionRestoreResult.from_job(
        SPEC_EXAMPLE, collection_restore_job_id=JOB_ID, cluster_name="C0", group_id="5f3a1b2c4d5e6f7a8b9c0d1e"
    )

    assert CollectionRestoreResult.from_xcom(result.to_xcom()) == result
    assert result.to_xcom()["restored_documents"] == 15500


def test_bad_xcom_is_refused():
    with pytest.raises(AtlasInputError, match="state='DONE' is not allowed"):
        CollectionRestoreResult.from_xcom({"collection_restore_job_id": JOB_ID, "state": "DONE"})
