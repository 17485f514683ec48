"""The layers keep their boundaries: which folder of the package may import what."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = "airflow_provider_atlas_restore"
PACKAGE_DIR = REPO_ROOT / PACKAGE
HTTP_CLIENTS = ("requests", "httpx", "urllib3")
#: Old module paths kept for one release, each only re-exporting its new home with a warning.
DEPRECATED_SHIMS = {"links.py", "snapshot_download.py", "restore_job_wait.py"}
#: Old names, by the module that keeps them for one release with a warning.
DEPRECATED_NAMES = [
    ("links", "AtlasRestoresLink"),
    ("snapshot_download", "SnapshotDownloader"),
    ("restore_job_wait", "evaluate_restore_job"),
    ("hooks.base", "AtlasBaseHook"),
    ("api.endpoints", "AtlasApi"),
]


def imported_modules(path: Path) -> set[str]:
    """Return every module ``path`` imports, at any depth (lazy imports inside functions too)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def modules_of(folder: str) -> list[Path]:
    """Return the package's modules below ``folder`` (a path relative to the package)."""
    return sorted((PACKAGE_DIR / folder).rglob("*.py"))


def is_within(module: str, *roots: str) -> bool:
    return any(module == root or module.startswith(f"{root}.") for root in roots)


def test_every_layer_folder_exists():
    for folder in ("api", "client", "download", "hooks", "operators", "sensors", "triggers", "testing"):
        assert (PACKAGE_DIR / folder / "__init__.py").is_file(), folder


@pytest.mark.parametrize("path", modules_of("api"), ids=lambda path: path.name)
def test_api_layer_does_no_io(path):
    imports = imported_modules(path)
    forbidden = {
        module
        for module in imports
        if is_within(module, *HTTP_CLIENTS, "socket", "asyncio")
        or is_within(module, *(f"{PACKAGE}.{layer}" for layer in ("client", "hooks", "download", "triggers")))
    }
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}: api/ builds and parses, it sends nothing"


def test_importing_the_api_layer_loads_no_http_client_beyond_what_airflow_loads():
    # Airflow itself imports httpx (its task SDK client): what api/ adds on top must hold none.
    code = (
        "import sys, importlib, pkgutil\n"
        f"import {PACKAGE}.exceptions\n"
        "before = set(sys.modules)\n"
        f"import {PACKAGE}.api as api\n"
        "for info in pkgutil.iter_modules(api.__path__):\n"
        f"    importlib.import_module('{PACKAGE}.api.' + info.name)\n"
        f"print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {HTTP_CLIENTS!r}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "path",
    modules_of("operators") + modules_of("sensors"),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_operators_and_sensors_reach_http_only_through_hooks(path):
    imports = imported_modules(path)
    forbidden = {
        module
        for module in imports
        if is_within(module, *HTTP_CLIENTS)
        or is_within(module, f"{PACKAGE}.download.downloader", f"{PACKAGE}.download.urls")
        or is_within(
            module, *(f"{PACKAGE}.client.{name}" for name in ("transport", "async_client", "async_pool"))
        )
    }
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}: go through a hook"


#: Operator modules that keep an earlier release's import path of an operator moved out of them,
#: by the module they re-export (nothing else may import from operators/).
OPERATOR_REEXPORTS = {
    "operators/restore_job_lifecycle.py": {f"{PACKAGE}.operators.cancel_restore_job"},
}


def test_nothing_imports_from_operators_not_even_another_operator():
    # Only Airflow imports operators: rules they share (masking, models) live outside operators/.
    importers = {
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*.py")
        if any(
            is_within(module, f"{PACKAGE}.operators")
            and not any(
                is_within(module, kept)
                for kept in OPERATOR_REEXPORTS.get(str(path.relative_to(PACKAGE_DIR)), ())
            )
            for module in imported_modules(path)
        )
    }
    assert importers == set(), f"{sorted(importers)} import from operators/: only Airflow should"


def test_package_root_holds_shared_concepts_only():
    root_modules = {path.name for path in PACKAGE_DIR.glob("*.py")}
    shared = {
        "__init__.py",
        "defaults.py",
        "exceptions.py",
        "extra_links.py",
        "get_provider_info.py",
        "masking.py",
        "models.py",
        "version_compat.py",
    }
    assert root_modules - DEPRECATED_SHIMS <= shared, sorted(root_modules - DEPRECATED_SHIMS - shared)


@pytest.mark.parametrize(("module", "name"), DEPRECATED_NAMES)
def test_old_paths_still_import_with_a_deprecation_warning(module, name):
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n"
        f"    from {PACKAGE}.{module} import {name}\n"
        f"    {name}() if {name!r} == 'AtlasApi' else None\n"
        "except DeprecationWarning as warning:\n"
        "    print('deprecated:', warning)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert ran.stdout.startswith("deprecated:"), ran.stdout + ran.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("AtlasConnectionError", "AtlasTransportError"),
        ("AtlasSnapshotNotFound", "AtlasSnapshotNotFoundError"),
    ],
)
def test_renamed_exceptions_keep_their_old_names_for_one_release(old, new):
    from airflow_provider_atlas_restore import exceptions

    with pytest.warns(DeprecationWarning, match=new):
        alias = getattr(exceptions, old)

    assert alias is getattr(exceptions, new)
