"""Telling a flex cluster from a dedicated one from what Atlas answers, never from the name."""

from __future__ import annotations

import pytest

from airflow_provider_atlas_restore.api.validation import validate_cluster_type
from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.models.cluster_kind import (
    CLUSTER_TYPES,
    ClusterKind,
    given_kind,
    kind_from_description,
    kind_from_error_code,
)


def region_description(provider: str, **specs: object) -> dict[str, object]:
    return {"name": "flexy-dedicated", "replicationSpecs": [{"regionConfigs": [{"providerName": provider, **specs}]}]}


def test_recorded_dedicated_description_is_dedicated(recorded):
    assert kind_from_description(recorded("v2-cluster-get-dedicated")["body"]) is ClusterKind.DEDICATED


def test_recorded_flex_cluster_resource_is_flex(recorded):
    assert kind_from_description(recorded("v2-flexcluster-get")["body"]) is ClusterKind.FLEX


@pytest.mark.parametrize(
    "description",
    [
        region_description("FLEX"),
        region_description("TENANT", electableSpecs={"instanceSize": "M5", "effectiveInstanceSize": "FLEX"}),
        region_description("TENANT", electableSpecs={"instanceSize": "M2"}),
        {"providerSettings": {"providerName": "FLEX", "instanceSizeName": "FLEX"}},
    ],
    ids=["region provider FLEX", "effective size FLEX", "former M2", "legacy provider settings"],
)
def test_cluster_api_description_of_a_flex_cluster_is_flex(description):
    assert kind_from_description(description) is ClusterKind.FLEX


@pytest.mark.parametrize(
    "description",
    [
        region_description("AWS", electableSpecs={"instanceSize": "M10"}),
        region_description("TENANT", electableSpecs={"instanceSize": "M0"}),
        {"name": "flex-cluster"},
    ],
    ids=["M10 on AWS", "free M0", "a name saying flex proves nothing"],
)
def test_description_without_flex_provider_or_tier_is_dedicated(description):
    assert kind_from_description(description) is ClusterKind.DEDICATED


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", ClusterKind.FLEX),
        ("CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API", ClusterKind.DEDICATED),
        ("CLUSTER_NOT_FOUND", None),
        (None, None),
    ],
)
def test_only_the_cross_family_error_codes_prove_a_kind(code, kind):
    assert kind_from_error_code(code) is kind


def test_cluster_type_auto_names_no_kind_and_the_others_their_kind():
    assert [given_kind(value) for value in CLUSTER_TYPES] == [None, ClusterKind.DEDICATED, ClusterKind.FLEX]


@pytest.mark.parametrize("value", ["Flex", "serverless", "", None, 1])
def test_unknown_cluster_type_is_refused_naming_the_allowed_ones(value):
    with pytest.raises(AtlasInputError, match=r"'auto'.*'dedicated' or 'flex'"):
        validate_cluster_type(value)
