"""Deprecated path of :mod:`airflow_provider_atlas_restore.download.downloader`; it goes away in the next release."""

from __future__ import annotations

import warnings

from airflow_provider_atlas_restore.download.downloader import *  # noqa: F403
from airflow_provider_atlas_restore.download.downloader import __all__ as __all__

warnings.warn(
    "airflow_provider_atlas_restore.snapshot_download is deprecated: import from "
    "airflow_provider_atlas_restore.download.downloader.",
    DeprecationWarning,
    stacklevel=2,
)
