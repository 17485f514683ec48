"""Which collection restore job a retry may adopt: the same source, target, strategy and namespaces."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.hooks.collection_restores import same_collection_restore

BODY = {
    "snapshotId": "6a79468a2c88faeba59de489",
    "targetClusterName": "Target0",
    "targetGroupId": "6a793f6b2c88faeba59bae37",
    "writeStrategy": "CREATE_NEW",
    "indexStrategy": "ALL",
    "collections": [{"sourceNamespace": "sales.orders", "targetNamespace": "staging.orders"}],
}


def test_the_job_of_the_same_request_matches_whatever_atlas_adds():
    job = {
        **BODY,
        "id": "6a7948342c88faeba59eb866",
        "state": "IN_PROGRESS",
        "databases": [],
        "databaseSuffix": "",
    }

    assert same_collection_restore(job, BODY)


@pytest.mark.parametrize(
    "change",
    [
        {"snapshotId": "6a79468a2c88faeba59de48a"},
        {"pointInTimeUtcSeconds": 1786332905},
        {"targetClusterName": "Other0"},
        {"targetGroupId": "6a793f6b2c88faeba59bae38"},
        {"writeStrategy": "OVERWRITE_EXISTING"},
        {"collections": [{"sourceNamespace": "sales.returns"}]},
        {"databases": [{"sourceNamespace": "sales"}]},
    ],
)
def test_a_job_of_another_request_does_not_match(change):
    assert not same_collection_restore({**BODY, **change}, BODY)
