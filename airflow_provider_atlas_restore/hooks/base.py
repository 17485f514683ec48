"""Deprecated: :class:`AtlasBaseHook` is now :class:`~airflow_provider_atlas_restore.hooks.atlas.AtlasHook`."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    """
    Return ``AtlasHook`` for the old name ``AtlasBaseHook``, with a deprecation warning.

    :param name: the attribute asked for.
    """
    if name == "AtlasBaseHook":
        from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

        warnings.warn(
            "AtlasBaseHook is deprecated: use airflow_provider_atlas_restore.hooks.atlas.AtlasHook "
            "(the two are one class now).",
            DeprecationWarning,
            stacklevel=2,
        )
        return AtlasHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
