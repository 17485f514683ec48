"""
Figures 1, 2, 3 and 3b: listing 10,000 restore jobs, ours beside the HTTP provider and the limit.

- ours: ``AtlasListRestoreJobsOperator(page_size=500).execute({})`` as a task runs it (a fresh
  hook each time, so its first request meets a Digest challenge), and ``AtlasHook.list_restore_jobs``;
- baseline: ``HttpOperator(method="GET", auth_type=HTTPDigestAuth, pagination_function=...)`` run
  with ``.execute({})`` on an ``http`` connection to the emulator, as users write it;
- the practical limit (3b): one pre-authorised ``requests`` session, 500 per page, JSON only.
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from benchmarks.common import (
    ATLAS_CONN_ID,
    HTTP_CONN_ID,
    Control,
    EmulatorInfo,
    Row,
    alternate,
    connection_env,
    emit,
    environment,
    log,
    median,
)

ACCEPT = {"Accept": "application/vnd.atlas.2023-01-01+json"}


def _endpoint(info: EmulatorInfo) -> str:
    return f"api/atlas/v2/groups/{info.group_id}/clusters/{info.list_cluster}/backup/restoreJobs"


def next_page(response: Any) -> dict[str, Any] | None:
    """The pagination function users write for Atlas: follow ``links[rel=next]`` by ``pageNum``."""
    body = response.json()
    if not any(link.get("rel") == "next" for link in body.get("links", [])):
        return None
    query = parse_qs(urlsplit(response.request.url).query)
    return {"data": {"pageNum": int(query["pageNum"][0]) + 1}}


def all_results(responses: Any) -> list[dict[str, Any]]:
    """The response filter users write: every page's ``results`` in one list."""
    pages = responses if isinstance(responses, list) else [responses]
    return [job for page in pages for job in page.json()["results"]]


def http_operator_listing(info: EmulatorInfo, per_page: int) -> list[dict[str, Any]]:
    """List every job with the HTTP provider's operator, as users write it."""
    from airflow.providers.http.operators.http import HttpOperator
    from requests.auth import HTTPDigestAuth

    operator = HttpOperator(
        task_id="list_restore_jobs_http",
        http_conn_id=HTTP_CONN_ID,
        method="GET",
        endpoint=_endpoint(info),
        data={"pageNum": 1, "itemsPerPage": per_page, "includeCount": "true"},
        headers=dict(ACCEPT),
        auth_type=HTTPDigestAuth,
        pagination_function=next_page,
        response_filter=all_results,
    )
    jobs: list[dict[str, Any]] = operator.execute({})
    return jobs


def our_operator_listing(info: EmulatorInfo) -> list[dict[str, Any]]:
    """List every job with our operator, as a task runs it (a fresh hook each time)."""
    from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator

    operator = AtlasListRestoreJobsOperator(
        task_id="list_restore_jobs",
        cluster_name=info.list_cluster,
        atlas_conn_id=ATLAS_CONN_ID,
        page_size=500,
    )
    jobs: list[dict[str, Any]] = operator.execute({})
    return jobs


def our_hook_listing(info: EmulatorInfo, hook: Any = None) -> list[dict[str, Any]]:
    """List every job with ``AtlasHook.list_restore_jobs`` (a fresh hook unless one is given)."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    own = hook is None
    hook = hook or AtlasHook(atlas_conn_id=ATLAS_CONN_ID)
    try:
        jobs: list[dict[str, Any]] = hook.list_restore_jobs(info.list_cluster, page_size=500)
    finally:
        if own:
            hook.close()
    return jobs


class Limit:
    """One pre-authorised ``requests`` session, 500 per page, JSON parsing and nothing else."""

    def __init__(self, info: EmulatorInfo) -> None:
        import requests
        from requests.auth import HTTPDigestAuth

        self.info = info
        self.session = requests.Session()
        self.session.auth = HTTPDigestAuth(info.public_key, info.private_key)
        self.session.headers.update(ACCEPT)
        self.url = f"{info.base_url}/{_endpoint(info)}"
        self.session.get(f"{info.base_url}/api/atlas/v2/groups/{info.group_id}").raise_for_status()

    def __call__(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        for page in range(1, 1000):
            params: dict[str, str | int] = {"pageNum": page, "itemsPerPage": 500, "includeCount": "true"}
            body = self.session.get(self.url, params=params).json()
            jobs.extend(body["results"])
            if not any(link["rel"] == "next" for link in body["links"]):
                break
        return jobs


def _count(control: Control, action: Any) -> dict[str, int]:
    control("reset")
    jobs = action()
    stats = control("stats")
    ok = control("count", route="list_restore_jobs", status=200)
    return {
        "jobs": len(jobs),
        "requests": control("count", route="list_restore_jobs"),
        "pages": ok,
        "challenges": stats["challenges"],
        "connections": stats["connections"],
    }


def request_counts(info: EmulatorInfo, control: Control) -> list[Row]:
    """Figures 1 and 2: requests per page on a warm hook, and requests to list every job."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    hook = AtlasHook(atlas_conn_id=ATLAS_CONN_ID)
    hook.get_project()  # warm: the hook now holds a nonce
    warm = _count(control, lambda: our_hook_listing(info, hook))
    hook.close()
    http_operator_listing(info, 100)  # the process is warm for the baseline too
    base_warm = _count(control, lambda: http_operator_listing(info, 100))
    ours = _count(control, lambda: our_operator_listing(info))
    base_500 = _count(control, lambda: http_operator_listing(info, 500))
    for counts in (warm, base_warm, ours, base_500):
        assert counts["jobs"] == info.list_jobs, counts
    per_page, base_per_page = warm["requests"] / warm["pages"], base_warm["requests"] / base_warm["pages"]
    detail = {"ours_warm_hook": warm, "http_operator_100": base_warm, "ours_operator": ours}
    return [
        Row(
            "1",
            "HTTP requests per page, warm hook (Digest)",
            per_page,
            "req/page",
            base_per_page,
            "HttpOperator + pagination_function, 2nd run in the process",
            "1.0 (baseline 2.0)",
            per_page == 1.0,
            note=(
                f"{warm['connections']} new TCP connection(s) for {warm['pages']} pages (the warm hook's "
                f"is reused); baseline {base_warm['connections']} for {base_warm['pages']}"
            ),
            detail=detail,
        ),
        Row(
            "2",
            f"requests to list {info.list_jobs:,} jobs (operator, fresh hook, 500/page)",
            ours["requests"],
            "requests",
            base_warm["requests"],
            "HttpOperator at 100/page",
            "<= 21 (baseline ~200)",
            ours["requests"] <= 21,
            note=(
                f"{ours['challenges']} Digest challenge(s); HttpOperator at 500/page: "
                f"{base_500['requests']} requests ({base_500['challenges']} challenges)"
            ),
            detail={"ours_operator": ours, "http_operator_500": base_500},
        ),
    ]


def _emulator_cpu(control: Control, action: Any, runs: int) -> float:
    """Median emulator CPU seconds spent per run of ``action`` (after one warm-up)."""
    action()
    spent = []
    for _ in range(runs):
        before = control("cpu")
        action()
        spent.append(control("cpu") - before)
    return median(spent)


def wall_times(info: EmulatorInfo, control: Control, runs: int) -> list[Row]:
    """Figures 3 and 3b: wall time to list every job, with 30 ms latency and on bare loopback."""
    control("set", name="latency", value=0.03)
    slow = alternate(
        {
            "ours": lambda: our_operator_listing(info),
            "http_operator": lambda: http_operator_listing(info, 100),
        },
        runs,
    )
    control("set", name="latency", value=0.0)
    limit = Limit(info)
    fast_runs = max(runs, 10)  # under a second each: more runs steady the medians
    fast = alternate(
        {
            "ours_operator": lambda: our_operator_listing(info),
            "ours_hook": lambda: our_hook_listing(info),
            "limit": limit,
        },
        fast_runs,
    )
    cpu = {
        "ours_operator": _emulator_cpu(control, lambda: our_operator_listing(info), 3),
        "limit": _emulator_cpu(control, limit, 3),
    }
    ours3, base3 = median(slow["ours"]), median(slow["http_operator"])
    op, hook, lim = median(fast["ours_operator"]), median(fast["ours_hook"]), median(fast["limit"])
    return [
        Row(
            "3",
            f"wall time to list {info.list_jobs:,} jobs, +30 ms per answer (operator)",
            ours3,
            "s",
            base3,
            "HttpOperator at 100/page, same latency",
            "<= 0.2x baseline",
            ours3 <= 0.2 * base3,
            runs=runs,
            detail={"times": slow},
        ),
        Row(
            "3b",
            f"wall time to list {info.list_jobs:,} jobs, bare loopback (operator)",
            op,
            "s",
            lim,
            "limit: pre-authorised requests session, 500/page, JSON only",
            "<= 1.15x limit",
            op <= 1.15 * lim,
            runs=fast_runs,
            note=(
                f"emulator CPU per listing: ours {cpu['ours_operator']:.2f} s, limit {cpu['limit']:.2f} s; "
                "fastest runs: " + ", ".join(f"{name} {min(values):.3f} s" for name, values in fast.items())
            ),
            detail={"times": fast, "emulator_cpu_s": cpu},
        ),
        Row(
            "3b'",
            f"wall time to list {info.list_jobs:,} jobs, bare loopback (hook.list_restore_jobs)",
            hook,
            "s",
            lim,
            "limit (as above)",
            "<= 1.15x limit",
            hook <= 1.15 * lim,
            runs=fast_runs,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["counts", "times"], default=None)
    args = parser.parse_args()
    info = EmulatorInfo.from_env()
    control = Control(info)
    rows: list[Row] = []
    with environment(**connection_env(info)):
        if args.only in (None, "counts"):
            log("figures 1 and 2: request counts")
            rows += request_counts(info, control)
        if args.only in (None, "times"):
            log("figures 3 and 3b: wall times")
            rows += wall_times(info, control, args.runs)
    control.close()
    emit(rows)
    log(json.dumps([(r.fig, r.ours, r.baseline) for r in rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
