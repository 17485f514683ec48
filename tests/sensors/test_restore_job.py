"""AtlasRestoreJobSensor: each poke outcome, the XCom value, masking and deferral (requests-mock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    PokeReturnValue,
    TaskDeferred,
)

from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor
from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger
from tests.conftest import CLUSTER, GROUP_ID, JOB_ID, jobs_url, make_job

JOB_URL = f"{jobs_url()}/{JOB_ID}"
LINK = "https://restore-6a79.example.invalid:27017/aB12up63eFh16ZmBiQ9cUO5Q/restore.tar.gz"
LATER = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
EARLIER = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(**fields) -> dict:
    return make_job(int(JOB_ID, 16), **fields)


def sharded(*urls: str | None) -> dict:
    components = [{"replicaSetName": f"atlas-x-shard-{i}", "downloadUrl": url} for i, url in enumerate(urls)]
    return job(deliveryUrl=[u for u in urls if u], components=components, expiresAt=LATER)


def sensor(**arguments) -> AtlasRestoreJobSensor:
    return AtlasRestoreJobSensor(
        task_id="wait", cluster_name=CLUSTER, restore_job_id=JOB_ID, deferrable=False, **arguments
    )


@pytest.fixture
def serve(atlas_connection, requests_mock):
    def answer(*bodies_or_statuses):
        responses = [
            {"status_code": item, "json": {"error": item, "errorCode": "X"}}
            if isinstance(item, int)
            else {"json": item}
            for item in bodies_or_statuses
        ]
        requests_mock.get(JOB_URL, responses)
        return requests_mock

    return answer


@pytest.mark.parametrize(
    "body",
    [job(), sharded(LINK, None), job(deliveryType="automated"), job(deliveryType="pointInTime")],
    ids=["download pending", "sharded partly ready", "automated running", "point in time running"],
)
def test_pending_job_is_not_done(serve, body):
    serve(body)

    assert sensor().poke({}) is False


def test_ready_download_returns_the_job_summary_with_its_links_when_asked(serve):
    serve(job(deliveryUrl=[LINK], expiresAt=LATER))

    result = sensor(include_delivery_urls=True).poke({})

    assert isinstance(result, PokeReturnValue)
    assert result.is_done
    assert result.xcom_value == {
        "restore_job_id": JOB_ID,
        "cluster_name": CLUSTER,
        "group_id": GROUP_ID,
        "delivery_type": "download",
        "state": "ready",
        "snapshot_id": "6a79468a2c88faeba59de489",
        "expires_at": datetime.strptime(LATER, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).isoformat(),
        "finished_at": None,
        "delivery_urls": [LINK],
        "components": [],
    }


def test_ready_download_keeps_its_links_out_of_xcom_by_default(serve):
    serve(sharded(LINK, LINK + "?1"))

    result = sensor().poke({})

    assert result.is_done
    assert result.xcom_value["delivery_urls"] == ["***", "***"]
    assert result.xcom_value["components"] == [
        {"replica_set_name": "atlas-x-shard-0", "download_url": "***"},
        {"replica_set_name": "atlas-x-shard-1", "download_url": "***"},
    ]
    assert (result.xcom_value["restore_job_id"], result.xcom_value["cluster_name"]) == (JOB_ID, CLUSTER)
    assert LINK not in repr(result.xcom_value)


def test_sharded_download_is_done_when_every_replica_set_has_its_link(serve):
    serve(sharded(LINK, LINK + "?1"))

    result = sensor(include_delivery_urls=True).poke({})

    assert result.xcom_value["components"] == [
        {"replica_set_name": "atlas-x-shard-0", "download_url": LINK},
        {"replica_set_name": "atlas-x-shard-1", "download_url": LINK + "?1"},
    ]


def test_finished_automated_restore_is_done(serve):
    serve(job(deliveryType="automated", finishedAt="2026-08-10T03:40:10Z"))

    assert sensor().poke({}).xcom_value["state"] == "finished"


@pytest.mark.parametrize(
    ("body", "state"),
    [
        (job(failed=True), "failed"),
        (job(cancelled=True), "cancelled"),
        (job(expired=True), "expired"),
        (job(deliveryUrl=[LINK], expiresAt=EARLIER), "expired"),
    ],
    ids=["failed", "cancelled", "expired flag", "expiresAt passed"],
)
def test_terminal_failure_fails_at_once_naming_job_cluster_and_state(serve, body, state):
    serve(body)

    with pytest.raises(AirflowFailException, match=f"Restore job {JOB_ID} of cluster {CLUSTER} is {state}"):
        sensor().poke({})


@pytest.mark.parametrize("status", [503, 429, 500])
def test_transient_answer_does_not_fail_the_poke(serve, status, log_text):
    served = serve(status)
    waiting = sensor()
    waiting.hook.sleep = lambda seconds: None

    assert waiting.poke({}) is False
    assert served.call_count == 5  # the hook's own retries, then the poke gives up for now
    assert "trying again later" in log_text()


@pytest.mark.parametrize("status", [401, 403, 404])
def test_auth_and_not_found_errors_fail_with_the_hooks_message(serve, status):
    serve(status)

    with pytest.raises(AtlasApiError) as caught:
        sensor().poke({})
    assert caught.value.status == status


def test_each_poke_logs_job_state_and_time_waited(serve, log_text):
    serve(job())

    sensor().poke({})

    output = log_text()
    assert f"Restore job {JOB_ID} of cluster {CLUSTER} is pending, waiting for download links" in output
    assert "Waited 0 s." in output


def test_delivery_urls_are_registered_with_the_secret_masker(serve):
    from airflow.providers.common.compat.sdk import redact

    link = "https://only-in-this-test.example.invalid/b7Qx9/restore.tar.gz"  # the masker is process-wide
    assert redact(link) == link
    serve(job(deliveryUrl=[link], expiresAt=LATER))

    sensor().poke({})

    assert redact(f"the link is {link}") == "the link is ***"


@pytest.mark.parametrize(("include", "links"), [(False, ["***"]), (True, [LINK])])
def test_deferrable_sensor_returns_at_once_when_already_ready(serve, include, links):
    served = serve(job(deliveryUrl=[LINK], expiresAt=LATER))

    result = _deferrable(include_delivery_urls=include).execute({})

    assert result["delivery_urls"] == links
    assert served.call_count == 1


def _deferrable(**arguments) -> AtlasRestoreJobSensor:
    return AtlasRestoreJobSensor(
        task_id="wait", cluster_name=CLUSTER, restore_job_id=JOB_ID, deferrable=True, **arguments
    )


def test_deferrable_sensor_defers_to_the_trigger_when_pending(serve):
    serve(job())

    with pytest.raises(TaskDeferred) as deferred:
        _deferrable(poke_interval=15, timeout=600).execute({})

    trigger = deferred.value.trigger
    assert isinstance(trigger, AtlasRestoreJobTrigger)
    assert (trigger.group_id, trigger.cluster_name, trigger.restore_job_id) == (GROUP_ID, CLUSTER, JOB_ID)
    assert trigger.poll_interval == 15
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=600)


def test_deferrable_sensor_fails_at_once_without_deferring(serve):
    serve(job(cancelled=True))

    with pytest.raises(AirflowFailException, match="cancelled"):
        _deferrable().execute({})


@pytest.mark.parametrize(("include", "links"), [(False, ["***"]), (True, [LINK])])
def test_success_event_reads_the_job_afresh_for_the_xcom_value(serve, include, links):
    served = serve(job(deliveryUrl=[LINK], expiresAt=LATER))

    result = _deferrable(include_delivery_urls=include).execute_complete(
        {}, {"status": "success", "message": "ready"}
    )

    assert result["delivery_urls"] == links
    assert result["state"] == "ready"
    assert served.call_count == 1


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"status": "failure", "message": "job failed"}, AirflowFailException),
        ({"status": "timeout", "message": "time is up"}, AirflowSensorTimeout),
    ],
)
def test_failure_and_timeout_events_raise_with_the_message(event, error):
    with pytest.raises(error, match=event["message"]):
        _deferrable().execute_complete({}, event)


def test_soft_fail_turns_a_failure_event_into_a_skip():
    with pytest.raises(AirflowSkipException, match="job failed"):
        _deferrable(soft_fail=True).execute_complete({}, {"status": "failure", "message": "job failed"})


def test_templated_fields():
    assert set(AtlasRestoreJobSensor.template_fields) == {
        "cluster_name",
        "restore_job_id",
        "group_id",
        "atlas_conn_id",
        "cluster_type",
    }


def test_bad_job_id_fails_before_any_request(atlas_connection, requests_mock):
    from airflow_provider_atlas_restore.exceptions import AtlasInputError

    with pytest.raises(AtlasInputError, match="restore_job_id"):
        AtlasRestoreJobSensor(task_id="w", cluster_name=CLUSTER, restore_job_id="{{ bad }}").poke({})
    assert requests_mock.call_count == 0


@pytest.fixture
def id_checks(monkeypatch):
    """Count the sensor's id checks, each still done for real."""
    from airflow_provider_atlas_restore.sensors import restore_job as sensor_module

    calls: list[str] = []

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)

        return wrapper

    for name in ("validate_cluster_name", "validate_object_id"):
        monkeypatch.setattr(sensor_module, name, counted(name, getattr(sensor_module, name)))
    return calls


def test_ids_are_checked_once_per_run_across_execute_pokes_and_deferral(serve, id_checks):
    serve(job())
    sensor = _deferrable(poke_interval=15, timeout=600)

    with pytest.raises(TaskDeferred):
        sensor.execute({})
    sensor.poke({})

    # The cluster name, the job id and the project id: each once, though looked at three times.
    assert sorted(id_checks) == ["validate_cluster_name", "validate_object_id", "validate_object_id"]
