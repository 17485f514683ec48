"""More restore-job operations of :class:`~.atlas.AtlasHook`: find the jobs of a request, wait for one, cancel one if pending."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_atlas_restore.api.bodies import RestoreJobSpec
from airflow_provider_atlas_restore.api.flex_endpoints import refuse_delivery_type_on_flex
from airflow_provider_atlas_restore.api.watched_resources import WatchedRestoreJob
from airflow_provider_atlas_restore.hooks.resource_waits import ResourceWaitOperations
from airflow_provider_atlas_restore.hooks.restore_jobs import RestoreJobOperations
from airflow_provider_atlas_restore.hooks.snapshots import SnapshotOperations
from airflow_provider_atlas_restore.models import (
    RestoreJob,
    RestoreJobState,
    WaitOutcome,
    WaitStatus,
    evaluate_restore_job,
    parse_timestamp,
)
from airflow_provider_atlas_restore.models.cluster_kind import ClusterKind, given_kind

#: Jobs per page when looking for the jobs of a request (the newest jobs come first).
_FIND_PAGE_SIZE = 100
#: How much earlier than the DAG run's start a job of an earlier try may seem to be created:
#: Atlas's clock and Airflow's may differ, and a job id holds whole seconds.
CLOCK_SKEW_ALLOWANCE = timedelta(seconds=60)


def earliest_start_of_earlier_tries(try_number: object, dag_run_started: object) -> datetime | None:
    """
    Return the earliest time an earlier try of a task instance can have created a job; ``None`` on a first try.

    Airflow does not tell a task when its first try began, but every try of a task instance
    runs after its DAG run began (``dag_run.start_date``; its ``queued_at`` when it has none).
    So a job of an earlier try was created after that moment, less
    :data:`CLOCK_SKEW_ALLOWANCE`. Clearing a finished DAG run gives it a new start date, so the
    tries before the clear are not searched: a clear asks for a new job. ``None`` also when
    ``try_number`` or the start is unknown (a task run outside Airflow).

    :param try_number: the task instance's ``try_number`` (1 on the first try).
    :param dag_run_started: when the DAG run began.
    """
    if not isinstance(try_number, int) or try_number <= 1 or not isinstance(dag_run_started, datetime):
        return None
    began = dag_run_started if dag_run_started.tzinfo else dag_run_started.replace(tzinfo=timezone.utc)
    return began - CLOCK_SKEW_ALLOWANCE


class RestoreJobWaitOperations(RestoreJobOperations, SnapshotOperations, ResourceWaitOperations):
    """What a task that starts a restore and waits for it needs beyond list, read, create and cancel."""

    def find_restore_jobs(
        self,
        cluster_name: str,
        spec: RestoreJobSpec,
        group_id: str | None = None,
        *,
        created_since: datetime,
        any_snapshot: bool = False,
        cluster_type: str = "auto",
    ) -> list[dict[str, Any]]:
        """
        Return the cluster's restore jobs of the same request as ``spec`` created since a moment, newest first.

        A job matches when its delivery type is the spec's; its snapshot is the spec's (unless
        ``any_snapshot``, or the spec names none, as a point-in-time restore may); its target
        cluster and project are the spec's (automated, pointInTime); and its point in time or
        oplog position is the spec's (pointInTime). A job's creation time is its ``createdAt``
        when Atlas sends one (v1.0), else the seconds in its ObjectId (v2 sends no ``createdAt``;
        Atlas ids begin with their creation time, whole seconds). Jobs are listed newest first,
        and the listing stops after a whole page of jobs older than ``created_since``.

        The jobs' download links are not registered with the secret masker (a listing's are
        not): read a job with :meth:`get_restore_job` before logging or returning its links.

        :param cluster_name: the cluster name.
        :param spec: the request: delivery type, snapshot, target and point in time.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param created_since: the earliest creation time (aware) of a job to return.
        :param any_snapshot: match a job of any snapshot, for a request of the newest snapshot
            (``"latest"``), which may be a newer one by now.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"`` (a flex job matches an
            ``automated`` spec of the same snapshot and target).
        """
        listing = self.iter_restore_jobs(
            cluster_name, group_id, page_size=_FIND_PAGE_SIZE, cluster_type=cluster_type
        )
        found: list[dict[str, Any]] = []
        older_in_a_row = 0
        for job in listing:
            created = restore_job_created_at(job)
            if created is not None and created < created_since:
                older_in_a_row += 1
                if older_in_a_row >= _FIND_PAGE_SIZE:
                    break
                continue
            older_in_a_row = 0
            if created is not None and same_request(job, spec, any_snapshot=any_snapshot):
                found.append(job)
        self.log.info(
            "Found %d %s restore jobs of cluster %s like this one created since %s (%d jobs read)",
            len(found),
            spec.delivery_type,
            cluster_name,
            created_since.isoformat(),
            listing.items_read,
        )
        return found

    def find_restore_job_to_adopt(
        self,
        cluster_name: str,
        spec: RestoreJobSpec,
        group_id: str | None = None,
        *,
        created_since: datetime,
        any_snapshot: bool = False,
        cluster_type: str = "auto",
    ) -> tuple[dict[str, Any], WaitOutcome] | None:
        """
        Return the newest job of :meth:`find_restore_jobs` still pending or done, read afresh, and its verdict; or ``None``.

        Failed, cancelled and expired jobs are passed over. The job returned was read with
        :meth:`get_restore_job`, so its links are masked.

        :param cluster_name: the cluster name.
        :param spec: the request: delivery type, snapshot, target and point in time.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param created_since: the earliest creation time (aware) of a job to adopt.
        :param any_snapshot: adopt a job of any snapshot (a request of the newest snapshot).
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        for candidate in self.find_restore_jobs(
            cluster_name,
            spec,
            group,
            created_since=created_since,
            any_snapshot=any_snapshot,
            cluster_type=cluster_type,
        ):
            job = self.get_restore_job(cluster_name, str(candidate["id"]), group, cluster_type=cluster_type)
            outcome = evaluate_restore_job(job, cluster_name=cluster_name, now=datetime.now(timezone.utc))
            if outcome.status is not WaitStatus.FAILED:
                return job, outcome
        return None

    def find_restore_job_of_an_earlier_try(
        self,
        cluster_name: str,
        spec: RestoreJobSpec,
        group_id: str | None = None,
        *,
        try_number: object,
        dag_run_started: object,
        any_snapshot: bool = False,
        cluster_type: str = "auto",
    ) -> dict[str, Any] | None:
        """
        Return the job an earlier try of a task instance started for ``spec``, to adopt; ``None`` on a first try or when there is none.

        The jobs looked at were created since :func:`earliest_start_of_earlier_tries`; the
        newest one still pending or done is returned (see :meth:`find_restore_job_to_adopt`),
        and the log says it is adopted.

        :param cluster_name: the cluster name.
        :param spec: the request: delivery type, snapshot, target and point in time.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param try_number: the task instance's ``try_number``.
        :param dag_run_started: when its DAG run began.
        :param any_snapshot: adopt a job of any snapshot (a request of the newest snapshot).
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        since = earliest_start_of_earlier_tries(try_number, dag_run_started)
        if since is None:
            return None
        found = self.find_restore_job_to_adopt(
            cluster_name,
            spec,
            group_id,
            created_since=since,
            any_snapshot=any_snapshot,
            cluster_type=cluster_type,
        )
        if found is None:
            return None
        job, outcome = found
        self.log.info(
            "Adopting restore job %s started by an earlier try of this task instance (created since "
            "%s; this is try %s) instead of starting another. %s",
            job.get("id"),
            since.isoformat(),
            try_number,
            outcome.message,
        )
        return job

    def adopt_or_start_restore_job(
        self,
        cluster_name: str,
        spec: RestoreJobSpec,
        group_id: str | None = None,
        *,
        try_number: object,
        dag_run_started: object,
        choose_latest: bool,
        allow_fallback_snapshot: bool = False,
        cluster_type: str = "auto",
    ) -> tuple[dict[str, Any], str]:
        """
        Return the job an earlier try started for ``spec``, or start it; and the cluster kind (``dedicated`` or ``flex``) found.

        On a flex cluster only an ``automated`` spec is accepted (every flex restore overwrites
        its target), refused before the create request otherwise; a point-in-time spec reads the
        cluster first (the description its window check needs tells the kind too). With
        ``choose_latest`` the newest completed snapshot is restored, whatever the list's order.

        :param cluster_name: the cluster whose snapshot is restored.
        :param spec: the restore, checked (without its snapshot when ``choose_latest``).
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param try_number: the task instance's ``try_number``.
        :param dag_run_started: when its DAG run began.
        :param choose_latest: restore the newest completed snapshot (``snapshot_id="latest"``).
        :param allow_fallback_snapshot: let ``choose_latest`` choose a fallback snapshot.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"``.
        """
        group = self.resolve_group_id(group_id)
        if spec.delivery_type == "pointInTime" and self.is_flex_cluster(cluster_name, group, cluster_type):
            refuse_delivery_type_on_flex(spec.delivery_type, cluster_name)
        job = self.find_restore_job_of_an_earlier_try(
            cluster_name,
            spec,
            group,
            try_number=try_number,
            dag_run_started=dag_run_started,
            any_snapshot=choose_latest,
            cluster_type=cluster_type,
        )
        if job is None:
            if choose_latest:
                latest = self.latest_completed_snapshot(
                    cluster_name,
                    group,
                    allow_fallback_snapshot=allow_fallback_snapshot,
                    cluster_type=cluster_type,
                )
                spec = spec.with_snapshot(latest["id"])
            if ClusterKind.FLEX in (given_kind(cluster_type), self.known_cluster_kind(cluster_name, group)):
                refuse_delivery_type_on_flex(spec.delivery_type, cluster_name)  # before the POST
            self.check_point_in_time_restore(cluster_name, spec, group)  # before the POST
            job = self.create_restore_job(cluster_name, spec, group, cluster_type=cluster_type)
        return job, self.cluster_kind(cluster_name, group, cluster_type).value  # known by now: no request

    def wait_for_restore_job(
        self,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        *,
        poll_interval: float,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        cluster_type: str = "auto",
    ) -> tuple[WaitOutcome, dict[str, Any] | None]:
        """
        Look at a restore job every ``poll_interval`` seconds until it is done or failed, or ``timeout`` has passed.

        The rules are the sensor's (:func:`~airflow_provider_atlas_restore.models.evaluate_restore_job`):
        a download is done when all its links are there, another restore when it has finished;
        failed, cancelled and expired jobs end the wait. A look without a usable answer
        (connection errors, timeouts, 429 and 5xx, after the hook's own retries) is logged and
        the next look tries again; 401, 403 and 404 raise. Return the last verdict (``PENDING``
        when the time ran out) and the job as last read (its links masked; ``None`` if never
        read). With ``timeout=0`` it looks once.

        :param cluster_name: the cluster name.
        :param restore_job_id: the job to wait for.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param poll_interval: seconds between two looks.
        :param timeout: seconds after which to stop looking.
        :param sleep: how to wait between two looks.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"`` (a flex job is done at
            ``COMPLETED``, failed at ``FAILED``).
        """
        group = self.resolve_group_id(group_id)
        # The read below finds the API family (``auto`` costs no request for a dedicated
        # cluster); the watched job only names the job and judges each answer.
        known_kind = cluster_type if cluster_type in ("dedicated", "flex") else "dedicated"
        return self.wait_for_resource(
            WatchedRestoreJob(group, cluster_name, restore_job_id, known_kind),
            poll_interval=poll_interval,
            timeout=timeout,
            first_state=RestoreJobState.PENDING,
            sleep=sleep,
            read=lambda: self.get_restore_job(cluster_name, restore_job_id, group, cluster_type=cluster_type),
        )

    def cancel_restore_job_if_pending(
        self,
        cluster_name: str,
        restore_job_id: str,
        group_id: str | None = None,
        *,
        cluster_type: str = "auto",
    ) -> RestoreJobState:
        """
        Cancel a restore job if it is still pending; return the state it was found in.

        :param cluster_name: the cluster name.
        :param restore_job_id: the restore job id.
        :param group_id: the project id; defaults to the connection's ``group_id`` extra.
        :param cluster_type: ``"auto"``, ``"dedicated"`` or ``"flex"`` (a flex job is refused).
        """
        group = self.resolve_group_id(group_id)
        job = self.get_restore_job(cluster_name, restore_job_id, group, cluster_type=cluster_type)
        state = RestoreJob.from_api(job).state
        if state is RestoreJobState.PENDING:
            self.cancel_restore_job(cluster_name, restore_job_id, group, cluster_type=cluster_type)
        return state


def restore_job_created_at(job: Mapping[str, Any]) -> datetime | None:
    """
    Return when a restore job was created: its ``createdAt``, else the time in its ObjectId; ``None`` if neither.

    :param job: a restore job as Atlas returned it.
    """
    created = parse_timestamp(job.get("createdAt"))
    if created is not None:
        return created
    job_id = job.get("id")
    if not isinstance(job_id, str) or len(job_id) != 24:
        return None
    try:
        return datetime.fromtimestamp(int(job_id[:8], 16), tz=timezone.utc)
    except ValueError:
        return None


def same_request(job: Mapping[str, Any], spec: RestoreJobSpec, *, any_snapshot: bool = False) -> bool:
    """
    Return whether ``job`` restores what ``spec`` asks for, to the same place (see ``find_restore_jobs``).

    :param job: a restore job as Atlas returned it.
    :param spec: the request.
    :param any_snapshot: whether a job of any snapshot matches.
    """
    view = RestoreJob.from_api(job)
    if view.is_flex:  # always a restore into a target: the spec's automated restore
        if spec.delivery_type != "automated" or view.is_download:
            return False
        if spec.snapshot_id is not None and not any_snapshot and view.snapshot_id != spec.snapshot_id:
            return False
        return view.target_cluster_name == spec.target_cluster_name and (
            spec.target_group_id is None or view.target_group_id == spec.target_group_id
        )
    if job.get("deliveryType") != spec.delivery_type:
        return False
    if spec.snapshot_id is not None and not any_snapshot and job.get("snapshotId") != spec.snapshot_id:
        return False
    if spec.delivery_type == "download":
        return True
    wanted: dict[str, Any] = {
        "targetClusterName": spec.target_cluster_name,
        "targetGroupId": spec.target_group_id,
    }
    if spec.delivery_type == "pointInTime":
        wanted.update(
            pointInTimeUTCSeconds=spec.point_in_time_utc_seconds,
            oplogTs=spec.oplog_ts,
            oplogInc=spec.oplog_inc,
        )
    # Atlas leaves out (or sends 0 for) the point-in-time fields a restore does not use.
    return all((job.get(name) or None) == (value or None) for name, value in wanted.items())
