"""The cluster-kind detection of :class:`~.atlas.AtlasHook`: is a cluster dedicated or flex, asked once per hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_atlas_restore.api.responses import expect_mapping
from airflow_provider_atlas_restore.api.validation import validate_cluster_name, validate_cluster_type
from airflow_provider_atlas_restore.exceptions import AtlasApiError
from airflow_provider_atlas_restore.hooks.operations import HookOperations
from airflow_provider_atlas_restore.models.cluster_kind import (
    FLEX_CLUSTER_IN_CLUSTER_API,
    ClusterKind,
    given_kind,
    kind_from_description,
    kind_from_error_code,
)

_T = TypeVar("_T")


class ClusterKindOperations(HookOperations):
    """
    Tell a dedicated cluster from a flex one from Atlas's own answers, at most once per hook and cluster.

    Two ways, both remembered for the hook's life and logged once:

    - An operation with ``cluster_type="auto"`` (:meth:`by_cluster_kind`) sends its dedicated
      request first. The cluster API's backup routes answer ``CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API``
      for a flex cluster: the operation then goes to the flex API, so a flex cluster costs one
      refused request and a dedicated one nothing extra. An answer of a backup route proves a
      dedicated cluster's Cloud Backup.
    - :meth:`cluster_kind` reads the cluster (``GET /clusters/{name}``, the read a point-in-time
      check needs anyway, which reuses it). A description does not by itself prove a dedicated
      cluster: the cluster API still describes some flex clusters, so it is read for the ``FLEX``
      provider or tier (see :func:`~airflow_provider_atlas_restore.models.cluster_kind.kind_from_description`).

    Any other error is raised as it is, after a log line saying the kind could not be told:
    nothing is guessed, and the name is never looked at.
    """

    def _cluster_kinds(self) -> dict[tuple[str, str], tuple[ClusterKind, dict[str, Any] | None]]:
        """Return this hook's remembered kinds (and descriptions) by (project, cluster)."""
        cache: dict[tuple[str, str], tuple[ClusterKind, dict[str, Any] | None]] | None = self.__dict__.get(
            "_cluster_kind_cache"
        )
        if cache is None:
            cache = self.__dict__["_cluster_kind_cache"] = {}
        return cache

    def _remember(
        self,
        cluster_name: str,
        group: str,
        kind: ClusterKind,
        why: str,
        description: dict[str, Any] | None = None,
    ) -> ClusterKind:
        cache = self._cluster_kinds()
        if (group, cluster_name) not in cache:
            what = "a flex cluster" if kind is ClusterKind.FLEX else "a dedicated cluster"
            api = "the flex backup API" if kind is ClusterKind.FLEX else "the cluster API"
            self.log.info("Cluster %s is %s (%s): using %s", cluster_name, what, why, api)
        cache[(group, cluster_name)] = (kind, description)
        return kind

    def known_cluster_kind(self, cluster_name: str, group_id: str) -> ClusterKind | None:
        """
        Return the kind this hook found for a cluster already, or ``None`` when it has not asked yet.

        :param cluster_name: the cluster name.
        :param group_id: the checked project id.
        """
        remembered = self._cluster_kinds().get((group_id, validate_cluster_name(cluster_name)))
        return remembered[0] if remembered else None

    def cluster_kind(
        self, cluster_name: str, group_id: str | None = None, cluster_type: str = "auto"
    ) -> ClusterKind:
        """
        Return whether ``cluster_name`` is dedicated or flex: as given, or asked of Atlas once per hook.

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cluster_type: ``"auto"`` (ask Atlas, unless this hook knows already),
            ``"dedicated"`` or ``"flex"`` (no request).
        """
        given = given_kind(validate_cluster_type(cluster_type))
        validate_cluster_name(cluster_name)
        if given is not None:
            return given
        group = self.resolve_group_id(group_id)
        known = self.known_cluster_kind(cluster_name, group)
        return known if known is not None else self._read_cluster_kind(cluster_name, group)

    def _read_cluster_kind(self, cluster_name: str, group: str) -> ClusterKind:
        request = self.api.get_cluster_request(group, cluster_name)
        try:
            description = expect_mapping(request, 200, self.run(request))
        except AtlasApiError as error:
            if kind_from_error_code(error.error_code) is not ClusterKind.FLEX:
                self._cannot_tell(cluster_name, error)
                raise
            return self._remember(
                cluster_name,
                group,
                ClusterKind.FLEX,
                f"the cluster API answered {FLEX_CLUSTER_IN_CLUSTER_API}",
            )
        kind = kind_from_description(description)
        why = (
            "the cluster API describes it with the FLEX provider"
            if kind is ClusterKind.FLEX
            else "the cluster API describes it with no flex provider or tier"
        )
        return self._remember(cluster_name, group, kind, why, description)

    def _cannot_tell(self, cluster_name: str, error: AtlasApiError) -> None:
        self.log.error(
            "Could not tell whether cluster %s is dedicated or flex (cluster_type='auto'): %s",
            cluster_name,
            error,
        )

    def by_cluster_kind(
        self,
        cluster_name: str,
        group: str,
        cluster_type: str,
        dedicated: Callable[[], _T],
        flex: Callable[[], _T],
    ) -> _T:
        """
        Run the dedicated or the flex variant of an operation, finding the kind from the dedicated answer when unknown.

        :param cluster_name: the cluster name.
        :param group: the checked project id.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        :param dedicated: the operation through the cluster API.
        :param flex: the operation through the flex API.
        """
        kind = given_kind(validate_cluster_type(cluster_type))
        validate_cluster_name(cluster_name)
        kind = kind or self.known_cluster_kind(cluster_name, group)
        if kind is ClusterKind.FLEX:
            return flex()
        if kind is ClusterKind.DEDICATED:
            return dedicated()
        try:
            result = dedicated()
        except AtlasApiError as error:
            if kind_from_error_code(error.error_code) is not ClusterKind.FLEX:
                if error.status is not None and 400 <= error.status < 500:
                    self._cannot_tell(cluster_name, error)
                raise
            self._remember(
                cluster_name,
                group,
                ClusterKind.FLEX,
                f"the cluster API answered {FLEX_CLUSTER_IN_CLUSTER_API} to {error.method} {error.path}",
            )
            return flex()
        self._remember(cluster_name, group, ClusterKind.DEDICATED, "the cluster API's backup routes serve it")
        return result

    def is_flex_cluster(
        self, cluster_name: str, group_id: str | None = None, cluster_type: str = "auto"
    ) -> bool:
        """
        Return whether :meth:`cluster_kind` finds a flex cluster (a request only when not known yet).

        :param cluster_name: the cluster name.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        return self.cluster_kind(cluster_name, group_id, cluster_type) is ClusterKind.FLEX

    def remembered_cluster_description(self, cluster_name: str, group_id: str) -> dict[str, Any] | None:
        """
        Return the description :meth:`cluster_kind` read for a cluster, or ``None`` when it read none.

        :param cluster_name: the cluster name.
        :param group_id: the checked project id.
        """
        remembered = self._cluster_kinds().get((group_id, validate_cluster_name(cluster_name)))
        return remembered[1] if remembered else None
