"""Provider metadata that Airflow discovers through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore import __version__

HOOK_CLASS_NAME = "airflow_provider_atlas_restore.hooks.atlas.AtlasHook"

#: How the connection form shows the standard fields (read by Airflow 3.x here, 2.11 from the hook).
#: Airflow 3's form prefills the Extra JSON with every ``conn-fields`` entry's default, so a field
#: without one (the optional default project) would be saved as ``"group_id": null``: the project
#: id is typed into Extra instead, as this placeholder shows.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {
        "login": "Public key or client id",
        "password": "Private key or client secret",
    },
    "placeholders": {
        "host": "cloud.mongodb.com",
        "login": "API public key, or service account client id (mdb_sa_id_...)",
        "password": "API private key, or service account secret",
        "extra": '{"group_id": "<24-hex default project id>", "timeout": 60}',
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its connection type, hooks and operators to Airflow."""
    # No "documentation-url" here: Airflow takes it from the package's ``Documentation`` project
    # URL (pyproject.toml), which both 2.11 and 3.x link the Providers page to.
    return {
        "package-name": "airflow-provider-atlas-restore",
        "name": "MongoDB Atlas Restore",
        "description": "List, create, wait for and download MongoDB Atlas Cloud Backup restore jobs.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "mongodb_atlas",
                "hook-class-name": HOOK_CLASS_NAME,
                "hook-name": "MongoDB Atlas",
                "conn-fields": {
                    "auth_type": {
                        "label": "Authentication",
                        "description": (
                            "digest: an API key pair (login = public key, password = private key). "
                            "service_account: OAuth client credentials (login = client id, "
                            "password = client secret)."
                        ),
                        "schema": {
                            "type": ["string", "null"],
                            "default": "digest",
                            "enum": ["digest", "service_account"],
                        },
                    },
                    "api_version": {
                        "label": "API version",
                        "description": "Atlas Administration API version: v2 (default) or the deprecated v1.0.",
                        "schema": {"type": ["string", "null"], "default": "v2", "enum": ["v2", "v1.0"]},
                    },
                    "scheme": {
                        "label": "Scheme",
                        "description": "https for Atlas; http only for a local emulator.",
                        "schema": {"type": ["string", "null"], "default": "https", "enum": ["https", "http"]},
                    },
                },
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "integrations": [
            {
                "integration-name": "MongoDB Atlas",
                "external-doc-url": "https://www.mongodb.com/docs/atlas/backup/cloud-backup/overview/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": ["airflow_provider_atlas_restore.hooks.atlas"],
            }
        ],
        "operators": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": [
                    "airflow_provider_atlas_restore.operators.restore_jobs",
                    "airflow_provider_atlas_restore.operators.restore_job_lifecycle",
                    "airflow_provider_atlas_restore.operators.cancel_restore_job",
                    "airflow_provider_atlas_restore.operators.download",
                    "airflow_provider_atlas_restore.operators.export_snapshot",
                    "airflow_provider_atlas_restore.operators.restore_collections",
                    "airflow_provider_atlas_restore.operators.on_demand_snapshots",
                    "airflow_provider_atlas_restore.operators.delete_snapshot",
                ],
            }
        ],
        "extra-links": ["airflow_provider_atlas_restore.extra_links.AtlasRestoresLink"],
        "sensors": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": ["airflow_provider_atlas_restore.sensors.restore_job"],
            }
        ],
        "triggers": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": [
                    "airflow_provider_atlas_restore.triggers.restore_job",
                    "airflow_provider_atlas_restore.triggers.polling",
                    "airflow_provider_atlas_restore.triggers.snapshot_events",
                ],
            }
        ],
    }
