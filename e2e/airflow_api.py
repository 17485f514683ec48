"""A small client of the api-server's public REST API and the DAG run's task states it reads."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from airflow_env import API_USER
from example_dag import DAG_ID
from failure import E2EFailure

FAILED_STATES = {"failed", "upstream_failed", "skipped", "removed"}


class Api:
    """A small client of the api-server's public REST API (``/api/v2``), loopback only."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
        """Return ``(status, decoded JSON body)``; raises OSError when nothing answers."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return answer.status, _json(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())

    def get(self, path: str) -> Any:
        """GET ``path``: the body of a 200, None for a 404 or no answer; fails on anything else."""
        try:
            status, body = self.call("GET", path)
        except OSError:
            return None
        if status == 404:
            return None
        if status != 200:
            raise E2EFailure(f"GET {path} answered {status}: {body}")
        return body

    def log_in(self, password: str) -> bool:
        """Get a token for the e2e user; whether that worked."""
        try:
            status, body = self.call("POST", "/auth/token", {"username": API_USER, "password": password})
        except OSError:
            return False
        if status in (200, 201) and isinstance(body, dict) and body.get("access_token"):
            self.token = str(body["access_token"])
            return True
        return False

    def dag_run(self, run_id: str) -> dict[str, Any] | None:
        """The DAG run ``run_id`` of the example DAG, None while there is none."""
        dag_run: dict[str, Any] | None = self.get(_dag_run_path(run_id))
        return dag_run

    def task_instance(self, run_id: str, task_id: str) -> dict[str, Any] | None:
        """The task instance ``task_id`` of the DAG run, None while there is none."""
        ti: dict[str, Any] | None = self.get(f"{_dag_run_path(run_id)}/taskInstances/{task_id}")
        return ti

    def xcom(self, run_id: str, task_id: str) -> Any:
        """The XCom return value of a task of the DAG run; fails when there is none."""
        entry = self.get(f"{_dag_run_path(run_id)}/taskInstances/{task_id}/xcomEntries/return_value")
        if entry is None:
            raise E2EFailure(f"task {task_id} left no XCom return value")
        value = entry.get("value")
        return json.loads(value) if isinstance(value, str) else value


def raise_if_failed(ti: dict[str, Any] | None) -> None:
    """Fail when the task instance (if there is one) ended in a failed state."""
    if ti and ti["state"] in FAILED_STATES:
        raise E2EFailure(f"task {ti['task_id']} ended {ti['state']} (try {ti.get('try_number')})")


def _dag_run_path(run_id: str) -> str:
    return f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")[:500]
