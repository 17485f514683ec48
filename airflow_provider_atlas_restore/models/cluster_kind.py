"""
Whether a cluster is dedicated or flex, decided from Atlas's own answers, never from its name.

Flex clusters keep their backups under their own API family (``/flexClusters/{name}/backup/...``).
The cluster API answers ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API`` for most of them, but until
January 2026 it also describes flex clusters created through it and former M2/M5 clusters, so a
description it returns is read for the flex provider rather than taken as proof of a dedicated
cluster. No I/O here: the hook sends the request and hands the answer or the error to these rules.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from airflow_provider_atlas_restore.api.validation import CLUSTER_TYPES

__all__ = [
    "AUTO_CLUSTER_TYPE",
    "CLUSTER_TYPES",
    "FLEX_CLUSTER_IN_CLUSTER_API",
    "NON_FLEX_CLUSTER_IN_FLEX_API",
    "ClusterKind",
    "given_kind",
    "kind_from_description",
    "kind_from_error_code",
]

#: The ``cluster_type`` that asks Atlas which kind a cluster is.
AUTO_CLUSTER_TYPE = "auto"
#: The error of the cluster API for a flex cluster.
FLEX_CLUSTER_IN_CLUSTER_API = "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"
#: The error of the flex API for a dedicated cluster.
NON_FLEX_CLUSTER_IN_FLEX_API = "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"
#: Tiers the cluster API may still report for a cluster that is flex by now (migrated M2/M5).
_FORMER_SHARED_TIERS = ("M2", "M5")


class ClusterKind(str, enum.Enum):
    """The API family a cluster's backups live in: the cluster API (dedicated) or the flex API."""

    DEDICATED = "dedicated"
    FLEX = "flex"


def _region_configs(description: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    specs = description.get("replicationSpecs")
    configs: list[Mapping[str, Any]] = []
    for spec in specs if isinstance(specs, list) else []:
        regions = spec.get("regionConfigs") if isinstance(spec, Mapping) else None
        configs.extend(region for region in regions or [] if isinstance(region, Mapping))
    return configs


def _is_flex_region(region: Mapping[str, Any]) -> bool:
    """Return whether one ``regionConfigs[]`` entry shows a flex host (``FLEX`` provider or tier)."""
    if region.get("providerName") == "FLEX":
        return True
    for key in (
        "electableSpecs",
        "effectiveElectableSpecs",
        "readOnlySpecs",
        "effectiveReadOnlySpecs",
        "analyticsSpecs",
        "effectiveAnalyticsSpecs",
    ):
        specs = region.get(key)
        if not isinstance(specs, Mapping):
            continue
        if specs.get("effectiveInstanceSize") == "FLEX" or specs.get("instanceSize") == "FLEX":
            return True
        if region.get("providerName") == "TENANT" and specs.get("instanceSize") in _FORMER_SHARED_TIERS:
            return True  # Atlas turned every M2/M5 into a flex cluster
    return False


def kind_from_description(description: Mapping[str, Any]) -> ClusterKind:
    """
    Return the kind a cluster description shows: flex when its provider or tier is ``FLEX``.

    The flex-cluster resource and the legacy description carry ``providerSettings.providerName``
    ``FLEX``; the 2024-08-05 description carries the provider per region
    (``replicationSpecs[].regionConfigs[]``: ``providerName`` ``FLEX``, or ``TENANT`` with an
    ``effectiveInstanceSize`` of ``FLEX`` or a former ``M2``/``M5`` tier).

    :param description: the cluster as the cluster API (or the flex API) described it.
    """
    settings = description.get("providerSettings")
    if isinstance(settings, Mapping) and (
        settings.get("providerName") == "FLEX" or settings.get("instanceSizeName") == "FLEX"
    ):
        return ClusterKind.FLEX
    if any(_is_flex_region(region) for region in _region_configs(description)):
        return ClusterKind.FLEX
    return ClusterKind.DEDICATED


def kind_from_error_code(error_code: str | None) -> ClusterKind | None:
    """
    Return the kind an Atlas error code proves, or ``None`` when it proves nothing.

    :param error_code: the ``errorCode`` of a refused request.
    """
    if error_code == FLEX_CLUSTER_IN_CLUSTER_API:
        return ClusterKind.FLEX
    if error_code == NON_FLEX_CLUSTER_IN_FLEX_API:
        return ClusterKind.DEDICATED
    return None


def given_kind(cluster_type: str) -> ClusterKind | None:
    """
    Return the kind a checked ``cluster_type`` names, or ``None`` for ``"auto"`` (ask Atlas).

    :param cluster_type: one of :data:`CLUSTER_TYPES`, already validated.
    """
    return None if cluster_type == AUTO_CLUSTER_TYPE else ClusterKind(cluster_type)
