"""AtlasCreateRestoreJobOperator's waiting parameters: defaults, checks when the DAG is parsed, no waiting."""

from __future__ import annotations

import inspect
import math
import os
import re
import subprocess
import sys

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator

WAITING_PARAMETERS = (
    "wait_for_completion",
    "deferrable",
    "poll_interval",
    "timeout",
    "cancel_on_kill",
    "include_delivery_urls",
)


def create(**arguments) -> AtlasCreateRestoreJobOperator:
    return AtlasCreateRestoreJobOperator(task_id="create", cluster_name="Cluster0", **arguments)


def test_waiting_defaults_are_wait_every_30_seconds_for_up_to_a_day_and_cancel_when_killed():
    operator = create()

    assert operator.wait_for_completion is True
    assert operator.poll_interval == 30
    assert operator.timeout == 24 * 60 * 60
    assert operator.cancel_on_kill is True
    assert operator.include_delivery_urls is False


@pytest.mark.parametrize("configured", ["True", "False"])
def test_deferrable_defaults_to_airflows_default_deferrable(configured):
    code = (
        "from airflow_provider_atlas_restore.operators.restore_job_lifecycle import "
        "AtlasCreateRestoreJobOperator as Create\n"
        "print(Create(task_id='create', cluster_name='Cluster0').deferrable)\n"
    )
    environment = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": configured}

    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )

    assert ran.stdout.strip().splitlines()[-1] == configured


@pytest.mark.parametrize("name", ["poll_interval", "timeout"])
@pytest.mark.parametrize("value", [0, -1, "30", math.nan, math.inf, True, None])
def test_a_wait_that_is_not_a_positive_number_of_seconds_is_refused_when_the_dag_is_parsed(name, value):
    with pytest.raises(AtlasInputError, match=f"{name}=.* must be a number of seconds above 0"):
        create(**{name: value})


@pytest.mark.parametrize(
    "name", ["wait_for_completion", "deferrable", "cancel_on_kill", "include_delivery_urls"]
)
def test_a_flag_given_as_text_is_refused_when_the_dag_is_parsed(name):
    with pytest.raises(AtlasInputError, match=f"{name}='false' is not allowed: it must be True or False"):
        create(**{name: "false"})


def test_each_waiting_parameter_and_its_default_is_in_the_docstring():
    docstring = inspect.getdoc(AtlasCreateRestoreJobOperator) or ""
    for name in WAITING_PARAMETERS:
        described = re.search(rf":param {name}:(.*?)(?=\n:param |\Z)", docstring, re.DOTALL)
        assert described is not None, name
        assert "default" in described.group(1), name


def test_without_waiting_the_job_is_returned_as_created_and_not_looked_at(
    atlas_emulator, emulator_connection
):
    job = create(wait_for_completion=False).execute({})

    assert job["deliveryType"] == "download"
    assert job["id"] in atlas_emulator.store.cluster(atlas_emulator.seed.group_id, "Cluster0").jobs
    assert atlas_emulator.stats.count(route="get_restore_job") == 0


@pytest.mark.parametrize("include", [False, True])
def test_the_result_holds_the_links_only_when_asked_as_the_sensors_does(
    atlas_emulator, emulator_connection, include
):
    result = create(include_delivery_urls=include, deferrable=False).execute({})

    [job_id] = atlas_emulator.store.cluster(atlas_emulator.seed.group_id, "Cluster0").jobs
    links = atlas_emulator.restore_job(atlas_emulator.seed.group_id, "Cluster0", job_id)["deliveryUrl"]
    assert (result["restore_job_id"], result["state"]) == (job_id, "ready")
    assert result["delivery_urls"] == (links if include else ["***"] * len(links)) != []
