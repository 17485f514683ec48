"""run_dag and the atlas_dag_runner fixture: a whole DAG of the user's, from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator

LIST_DAG = """
from airflow.providers.common.compat.sdk import DAG
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator

with DAG(dag_id="user_list_jobs", schedule=None):
    AtlasListRestoreJobsOperator(task_id="jobs", cluster_name="Cluster0")
"""


@pytest.mark.timeout(180)
def test_dag_from_a_folder_outside_the_dag_bundles_runs_to_success(
    atlas_emulator: AtlasEmulator, atlas_dag_runner, tmp_path: Path
) -> None:
    assert atlas_emulator.seed is not None
    job = atlas_emulator.add_restore_job(atlas_emulator.seed.group_id, "Cluster0")
    (tmp_path / "user_list_jobs.py").write_text(LIST_DAG)

    result = atlas_dag_runner(tmp_path, "user_list_jobs")

    assert result.succeeded, result.task_states
    assert result.task_states == {"jobs": "success"}
    assert [listed["id"] for listed in result.xcom["jobs"]] == [job["id"]]
    assert result.run_id
    assert atlas_emulator.stats.count(route="list_restore_jobs", status=200) == 1


def test_a_dag_file_that_does_not_import_is_reported_with_its_error(atlas_dag_runner, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(
        "from airflow.providers.common.compat.sdk import DAG\nimport not_a_module_anywhere\n"
    )

    with pytest.raises(RuntimeError, match="not_a_module_anywhere"):
        atlas_dag_runner(tmp_path, "broken")
