"""The provider metadata Airflow discovers, checked against Airflow's own schema and CLI."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_atlas_restore import __version__
from airflow_provider_atlas_restore.get_provider_info import get_provider_info

AIRFLOW_PACKAGE = Path(airflow.__file__).parent


def test_entry_point_points_at_get_provider_info():
    (entry_point,) = [
        e
        for e in entry_points(group="apache_airflow_provider")
        if e.value.startswith("airflow_provider_atlas")
    ]

    assert entry_point.load() is get_provider_info


def test_provider_info_matches_airflows_schema():
    schema = json.loads((AIRFLOW_PACKAGE / "provider_info.schema.json").read_text())

    jsonschema.validate(get_provider_info(), schema)


def test_provider_info_carries_the_package_version():
    info = get_provider_info()

    assert info["package-name"] == "airflow-provider-atlas-restore"
    assert info["versions"] == [__version__]


def test_connection_type_points_at_the_hook_with_matching_attributes():
    (connection_type,) = get_provider_info()["connection-types"]
    module, _, name = connection_type["hook-class-name"].rpartition(".")
    hook_class = getattr(importlib.import_module(module), name)

    assert connection_type["connection-type"] == hook_class.conn_type == "mongodb_atlas"
    assert connection_type["hook-name"] == hook_class.hook_name == "MongoDB Atlas"
    assert hook_class.conn_name_attr == "atlas_conn_id"
    assert hook_class.default_conn_name == "mongodb_atlas_default"


def test_ui_field_behaviour_matches_airflows_schema_and_the_hook():
    schema_file = AIRFLOW_PACKAGE / "customized_form_field_behaviours.schema.json"
    (connection_type,) = get_provider_info()["connection-types"]
    behaviour = connection_type["ui-field-behaviour"]
    as_hook_returns = {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    jsonschema.validate(as_hook_returns, json.loads(schema_file.read_text()))
    assert AtlasHook.get_ui_field_behaviour() == as_hook_returns
    assert behaviour["relabeling"] == {
        "login": "Public key or client id",
        "password": "Private key or client secret",
    }


def test_every_listed_module_imports():
    info = get_provider_info()
    modules = [
        m
        for section in ("hooks", "operators", "sensors", "triggers")
        for e in info.get(section, [])
        for m in e["python-modules"]
    ]

    for module in modules:
        importlib.import_module(module)


def airflow_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def json_output(result: subprocess.CompletedProcess[str]) -> list[dict]:
    """Return the JSON list a CLI command printed, skipping any log lines before it."""
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("[{")]
    return json.loads(line)


@pytest.mark.usefixtures("airflow_database")
def test_airflow_providers_list_shows_the_provider():
    providers = {
        p["package_name"]: p for p in json_output(airflow_cli("providers", "list", "--output", "json"))
    }
    assert providers["airflow-provider-atlas-restore"]["version"] == __version__


@pytest.mark.usefixtures("airflow_database")
def test_airflow_connections_add_accepts_the_connection_type():
    added = airflow_cli(
        "connections", "add", "atlas_cli_test", "--conn-type", "mongodb_atlas",
        "--conn-login", "publickey", "--conn-password", "private-key-value",
        "--conn-extra", '{"group_id": "6a793f6b2c88faeba59bae37"}',
    )  # fmt: skip
    shown = airflow_cli("connections", "get", "atlas_cli_test", "--output", "json")

    assert added.returncode == 0, added.stderr
    assert "Successfully added" in added.stdout
    (connection,) = json_output(shown)
    assert connection["conn_type"] == "mongodb_atlas"
    assert connection["login"] == "publickey"


@pytest.mark.usefixtures("airflow_database")
def test_airflow_lists_the_connection_type_with_its_hook():
    hooks = {
        h["connection_type"]: h for h in json_output(airflow_cli("providers", "hooks", "--output", "json"))
    }
    assert hooks["mongodb_atlas"]["class"] == "airflow_provider_atlas_restore.hooks.atlas.AtlasHook"


def test_airflow3_connection_form_prefills_the_extra_with_no_null_values():
    """Airflow 3's form writes each conn-field's prefilled value into the Extra JSON: none may be null."""
    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    if not AIRFLOW_V_3_0_PLUS:
        pytest.skip("Airflow 2.11's form drops empty fields itself")
    from airflow.providers_manager import ProvidersManager

    widgets = ProvidersManager().connection_form_widgets
    prefilled = {
        info.field_name: info.field["value"]
        for key, info in widgets.items()
        if key.startswith("extra__mongodb_atlas__")
    }
    assert prefilled == {"auth_type": "digest", "api_version": "v2", "scheme": "https"}
