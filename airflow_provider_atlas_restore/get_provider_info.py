"""Provider metadata that Airflow discovers through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_atlas_restore import __version__

HOOK_CLASS_NAME = "airflow_provider_atlas_restore.hooks.atlas.AtlasHook"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its connection type, hooks and operators to Airflow."""
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
                    "group_id": {
                        "label": "Project (group) id",
                        "description": "Default Atlas project id (24 hex characters) for tasks that name none.",
                        "schema": {"type": ["string", "null"], "pattern": "^([a-f0-9]{24})?$"},
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
                "ui-field-behaviour": {
                    "hidden-fields": ["schema"],
                    "relabeling": {"login": "Public key", "password": "Private key"},
                    "placeholders": {
                        "host": "cloud.mongodb.com",
                        "login": "Atlas API public key",
                        "password": "Atlas API private key",
                        "extra": '{"timeout": 60, "retry_max_attempts": 5}',
                    },
                },
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
                    "airflow_provider_atlas_restore.operators.download",
                ],
            }
        ],
        "extra-links": ["airflow_provider_atlas_restore.links.AtlasRestoresLink"],
        "sensors": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": ["airflow_provider_atlas_restore.sensors.restore_job"],
            }
        ],
        "triggers": [
            {
                "integration-name": "MongoDB Atlas",
                "python-modules": ["airflow_provider_atlas_restore.triggers.restore_job"],
            }
        ],
    }
