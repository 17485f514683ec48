"""Deprecated path of :mod:`airflow_provider_atlas_restore.extra_links`; it goes away in the next release."""

from __future__ import annotations

import warnings

from airflow_provider_atlas_restore.extra_links import AtlasRestoresLink

__all__ = ["AtlasRestoresLink"]

warnings.warn(
    "airflow_provider_atlas_restore.links is deprecated: import AtlasRestoresLink from "
    "airflow_provider_atlas_restore.extra_links.",
    DeprecationWarning,
    stacklevel=2,
)
