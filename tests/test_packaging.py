"""What a user gets from the built packages: the license, and a documentation link that exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = "airflow-provider-atlas-restore"
DOCUMENTATION_URL = "https://www.mongodb.com/docs/atlas/backup/cloud-backup/overview/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel and the sdist from a copy of the checkout, offline (hatchling is in the test extra)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(
        REPO_ROOT,
        source,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".venv*", ".git", "*_cache", ".hypothesis", "benchmarks", "e2e"),
    )
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-c", f"from hatchling.build import build_sdist; build_sdist({str(out)!r})"],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.mark.timeout(240)
def test_wheel_holds_the_apache_license_and_declares_it(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        [license_name] = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(license_name) == (REPO_ROOT / "LICENSE").read_bytes()
        [metadata_name] = [name for name in names if name.endswith(".dist-info/METADATA")]
        fields = wheel.read(metadata_name).decode()
    assert "License-Expression: Apache-2.0" in fields
    assert "License-File: LICENSE" in fields
    assert f"Project-URL: Documentation, {DOCUMENTATION_URL}" in fields


@pytest.mark.timeout(240)
def test_sdist_holds_the_license(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        [member] = [m for m in sdist.getmembers() if m.name.endswith("/LICENSE") and m.name.count("/") == 1]
        extracted = sdist.extractfile(member)
        assert extracted is not None
        assert extracted.read() == (REPO_ROOT / "LICENSE").read_bytes()


def test_license_is_the_apache_2_0_text() -> None:
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text
    assert len(text.split()) > 1500  # the full text, not a notice


def test_providers_page_links_to_a_documentation_page_that_exists() -> None:
    """Airflow links the provider's name to the ``Documentation`` project URL of the installed package."""
    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:  # 3.x puts it into the provider info, where the UI reads documentation_url
        from airflow.providers_manager import ProvidersManager

        linked = ProvidersManager().providers[PACKAGE].data["documentation-url"]
    else:  # 2.11's Providers view
        from airflow.utils.docs import get_doc_url_for_provider

        linked = get_doc_url_for_provider(PACKAGE, metadata.version(PACKAGE))
    assert linked == DOCUMENTATION_URL
