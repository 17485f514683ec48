"""The README's "test your own DAGs" example runs as written, in a pytest of its own."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_as_a_user

MARKER = "<!-- readme-test: this block is run by tests/test_readme.py -->"


def readme_test_block() -> str:
    """Return the python block that follows the README's readme-test marker."""
    readme = (REPO_ROOT / "README.md").read_text()
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md has no python block after the readme-test marker"
    return found.group(1)


@pytest.mark.timeout(300)
def test_readme_dag_test_example_passes_in_a_fresh_pytest(tmp_path: Path) -> None:
    project = tmp_path / "user_project"
    project.mkdir()
    (project / "test_restore_dag.py").write_text(readme_test_block())
    # As a user would run it: a fresh AIRFLOW_HOME, none of this suite's Airflow settings.
    finished = run_as_a_user(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_restore_dag.py"],
        project,
        AIRFLOW_HOME=str(tmp_path / "airflow_home"),
    )

    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    assert "1 passed" in finished.stdout
