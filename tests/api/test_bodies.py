"""RestoreJobSpec: the seven create arguments in one place, checked, and turned into the request body."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest

from airflow_provider_atlas_restore.api.bodies import (
    BODY_FIELD_NAMES,
    RestoreJobSpec,
    restore_job_spec,
)
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, jobs_url

SNAPSHOT = "6a79468a2c88faeba59de489"
TARGET_GROUP = "6a794320c0eb9e7a17728a63"
MOMENT = 1786332905

SPECS = {
    "download": RestoreJobSpec("download", snapshot_id=SNAPSHOT),
    "automated": RestoreJobSpec(
        "automated", snapshot_id=SNAPSHOT, target_cluster_name="Target-1", target_group_id=TARGET_GROUP
    ),
    "point in time": RestoreJobSpec(
        "pointInTime",
        target_cluster_name="Target-1",
        target_group_id=TARGET_GROUP,
        point_in_time_utc_seconds=MOMENT,
    ),
    "oplog": RestoreJobSpec(
        "pointInTime",
        snapshot_id=SNAPSHOT,
        target_cluster_name="Target-1",
        target_group_id=TARGET_GROUP,
        oplog_ts=MOMENT,
        oplog_inc=3,
    ),
}
BODIES = {
    "download": {"deliveryType": "download", "snapshotId": SNAPSHOT},
    "automated": {
        "deliveryType": "automated",
        "snapshotId": SNAPSHOT,
        "targetClusterName": "Target-1",
        "targetGroupId": TARGET_GROUP,
    },
    "point in time": {
        "deliveryType": "pointInTime",
        "targetClusterName": "Target-1",
        "targetGroupId": TARGET_GROUP,
        "pointInTimeUTCSeconds": MOMENT,
    },
    "oplog": {
        "deliveryType": "pointInTime",
        "snapshotId": SNAPSHOT,
        "targetClusterName": "Target-1",
        "targetGroupId": TARGET_GROUP,
        "oplogTs": MOMENT,
        "oplogInc": 3,
    },
}


@pytest.mark.parametrize("name", SPECS)
def test_spec_body_holds_what_its_delivery_type_sends(name):
    assert SPECS[name].to_body() == BODIES[name]


@pytest.mark.parametrize("name", SPECS)
def test_spec_reads_back_from_its_body(name):
    assert RestoreJobSpec.from_body(SPECS[name].to_body()) == SPECS[name]


def test_every_spec_field_has_its_json_name():
    assert list(BODY_FIELD_NAMES) == [field.name for field in fields(RestoreJobSpec)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RestoreJobSpec("download"), "A download restore needs snapshot_id"),
        (RestoreJobSpec("tape", snapshot_id=SNAPSHOT), "delivery_type='tape' is not allowed"),
        (RestoreJobSpec("download", snapshot_id=SNAPSHOT, oplog_ts=MOMENT), "takes only snapshot_id"),
        (RestoreJobSpec("automated", snapshot_id=SNAPSHOT), "needs target_cluster_name and target_group_id"),
        (
            RestoreJobSpec(
                "pointInTime", target_cluster_name="T-1", target_group_id=TARGET_GROUP, oplog_ts=MOMENT
            ),
            "oplog_ts together with oplog_inc",
        ),
    ],
)
def test_spec_check_names_what_is_wrong(spec, message):
    with pytest.raises(AtlasInputError, match=message):
        spec.check()


def test_spec_whose_snapshot_is_chosen_later_is_checked_without_it_then_completed():
    spec = RestoreJobSpec("download").check(snapshot_chosen_later=True)

    assert spec.to_body(snapshot_chosen_later=True) == {"deliveryType": "download"}
    assert spec.with_snapshot(SNAPSHOT).to_body() == BODIES["download"]


def test_a_spec_beside_keyword_arguments_is_refused_naming_them():
    with pytest.raises(AtlasInputError, match="not both: oplog_ts, snapshot_id given beside a spec"):
        restore_job_spec(SPECS["download"], snapshot_id=SNAPSHOT, oplog_ts=MOMENT, oplog_inc=None)


def test_hook_sends_the_body_of_the_spec_it_is_given(hook, requests_mock):
    created = requests_mock.post(jobs_url(), json={"id": JOB_ID, "deliveryType": "automated"})

    hook.create_restore_job(CLUSTER, SPECS["automated"], GROUP_ID)

    assert json.loads(created.last_request.body) == BODIES["automated"]


def test_hook_refuses_a_spec_with_keyword_arguments_before_any_request(hook, requests_mock):
    with pytest.raises(AtlasInputError, match="not both"):
        hook.create_restore_job(CLUSTER, SPECS["download"], snapshot_id=SNAPSHOT)

    assert requests_mock.call_count == 0


@pytest.mark.parametrize("name", ["automated", "point in time", "oplog"])
def test_emulator_keeps_every_field_of_the_spec_it_is_sent(atlas_emulator, emulator_connection, name):
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    seed = atlas_emulator.seed
    spec = replace(SPECS[name], target_cluster_name=seed.cluster_name, target_group_id=seed.group_id)
    if spec.snapshot_id:
        spec = spec.with_snapshot(seed.snapshot_id)
    hook = AtlasHook(atlas_conn_id=emulator_connection)
    try:
        created = hook.create_restore_job(seed.cluster_name, spec)
    finally:
        hook.close()

    read = RestoreJobSpec.from_body(created)
    if spec.snapshot_id is None:  # the emulator names the snapshot it chose for the point in time
        read = replace(read, snapshot_id=None)
    assert read == spec
