"""A retry of the create task adopts the job its first try started: run by Airflow (dag.test, retries=1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_atlas_restore.hooks.restore_jobs import RestoreJobOperations
from tests.conftest import TEST_DAGS
from tests.operators.create_and_wait_helpers import CLUSTER, DELIVERY_TYPES, jobs_of, posts, prepare


def try_numbers(dag_id: str, run_id: str) -> dict[str, int]:
    """Return each task's try number in a DAG run, as Airflow stored it."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id).all()
        return {row.task_id: row.try_number for row in rows}


@dataclass
class DyingFirstTry:
    """The jobs the test's creates returned, and what to do just before the first try dies."""

    created: list[dict] = field(default_factory=list)
    before_dying: Callable[[dict], None] = lambda job: None


@pytest.fixture
def first_try_dies_after_the_post(monkeypatch) -> DyingFirstTry:
    """Make the first create of the test raise once Atlas has answered it, as a worker lost at that moment."""
    real_create = RestoreJobOperations.create_restore_job
    dying = DyingFirstTry()

    def create_then_die(self, *args, **kwargs):
        job = real_create(self, *args, **kwargs)
        dying.created.append(job)
        if len(dying.created) == 1:
            dying.before_dying(job)
            raise AirflowException("the worker was lost right after the POST")
        return job

    monkeypatch.setattr(RestoreJobOperations, "create_restore_job", create_then_die)
    return dying


def lose_the_create_answer(emulator) -> None:
    """Atlas creates the job, then the connection is reset before its answer arrives."""
    emulator.faults.add(route="create_restore_job", kind="reset", method="POST")


@pytest.mark.parametrize("delivery_type", DELIVERY_TYPES)
@pytest.mark.parametrize("first_try", ["loses the answer", "dies after the answer"])
def test_a_retry_after_the_first_try_died_past_the_post_adopts_its_job(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text, request, delivery_type, first_try
):
    run_conf = prepare(atlas_emulator, delivery_type)
    if first_try == "loses the answer":
        lose_the_create_answer(atlas_emulator)
    else:
        request.getfixturevalue("first_try_dies_after_the_post")
    dag_id = f"test_atlas_create_and_wait_{delivery_type}_poke"

    result = atlas_dag_runner(TEST_DAGS, dag_id, run_conf)

    assert result.state == "success", result.task_states
    assert try_numbers(dag_id, result.run_id) == {"create": 2}
    [job] = jobs_of(atlas_emulator)  # one job on the emulator: the retry started none
    assert posts(atlas_emulator) == 1
    assert result.xcom["create"]["restore_job_id"] == job["id"]
    assert result.xcom["create"]["state"] == ("ready" if delivery_type == "download" else "finished")
    assert f"Adopting restore job {job['id']} started by an earlier try of this task instance" in log_text()


def test_a_deferrable_retry_adopts_the_job_and_waits_for_it_in_the_triggerer(
    airflow_database, atlas_emulator, atlas_dag_runner, log_text
):
    lose_the_create_answer(atlas_emulator)

    result = atlas_dag_runner(
        TEST_DAGS, "test_atlas_create_and_wait_download_deferrable", prepare(atlas_emulator)
    )

    assert result.state == "success", result.task_states
    [job] = jobs_of(atlas_emulator)
    assert result.xcom["create"]["restore_job_id"] == job["id"]
    assert f"Adopting restore job {job['id']}" in log_text()


def test_a_retry_does_not_adopt_a_job_that_failed_and_starts_another(
    airflow_database, atlas_emulator, atlas_dag_runner, first_try_dies_after_the_post
):
    group_id = atlas_emulator.seed.group_id
    first_try_dies_after_the_post.before_dying = lambda job: atlas_emulator.fail_job(
        group_id, CLUSTER, job["id"]
    )

    result = atlas_dag_runner(TEST_DAGS, "test_atlas_create_and_wait_download_poke", prepare(atlas_emulator))

    assert result.state == "success", result.task_states
    failed, started_again = jobs_of(atlas_emulator)
    assert failed["failed"] is True
    assert result.xcom["create"]["restore_job_id"] == started_again["id"]
    assert posts(atlas_emulator) == 2
