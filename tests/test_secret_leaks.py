"""
Secret-leak scan: the example DAGs run by Airflow against the emulator with sentinel secrets.

Every log line, XCom value, rendered template field, trigger (as serialized, and as stored), deferral payload and
exception text is searched: the private key, the client secret and the bearer tokens never
appear, and the download links (bearer links to the snapshot), public and private-endpoint ones
alike, appear nowhere. Three ways of waiting are run: the example pipeline's create-and-wait,
deferred (``atlas_snapshot_download``); create-and-wait in poke mode (a test DAG); and the
deferred sensor waiting for a job started elsewhere (``atlas_wait_for_existing_restore``). Their
XCom holds ``***`` in place of links by default, and the download resolves them by job id.
The project has a private endpoint, so every job carries private links too; the service-account
runs download through them (the connection's ``private_endpoint_id`` extra), the Digest runs
through the public links.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from airflow_provider_atlas_restore.testing import AtlasEmulator
from airflow_provider_atlas_restore.testing.dag_runs import run_dag, stored_xcom
from airflow_provider_atlas_restore.testing.seeding import seed_basic
from airflow_provider_atlas_restore.testing.tokens import ServiceAccounts
from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import EXAMPLE_DAGS, TEST_DAGS

PRIVATE_KEY = "PRIVATE-KEY-SENTINEL-5f0c2a9e"
CLIENT_SECRET = "mdb_sa_sk_CLIENT-SECRET-SENTINEL-81d4"
ENDPOINT = "vpce-5e0c2a9e81d40c2a9"
#: Each run: its DAG folder, DAG id and the task that waits for the job (and returns it).
RUNS = {
    "create_and_wait_deferred": (EXAMPLE_DAGS, "atlas_snapshot_download", "create_restore"),
    "create_and_wait_poke": (TEST_DAGS, "test_atlas_create_and_wait_download_poke", "create"),
    "sensor_deferred": (EXAMPLE_DAGS, "atlas_wait_for_existing_restore", "wait_for_restore"),
}
DAG_IDS = sorted({dag_id for _, dag_id, _ in RUNS.values()})


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Capture all output: ``sys.stdout``/``sys.stderr`` (structlog), logging records, and fds 1 and 2."""
    sys.stdout.flush()
    sys.stderr.flush()
    collected: list[str] = []
    with tempfile.TemporaryFile() as sink:
        stream = open(os.dup(sink.fileno()), "w", buffering=1, encoding="utf-8")  # noqa: SIM115
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        saved_fds = [os.dup(1), os.dup(2)]
        saved_streams = (sys.stdout, sys.stderr)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        sys.stdout = sys.stderr = stream
        logging.getLogger().addHandler(handler)
        try:
            yield collected
        finally:
            logging.getLogger().removeHandler(handler)
            stream.flush()
            sys.stdout, sys.stderr = saved_streams
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for descriptor in saved_fds:
                os.close(descriptor)
            stream.close()
            sink.seek(0)
            collected.append(sink.read().decode("utf-8", "replace"))


@pytest.fixture(scope="module", params=["digest", "service_account"])
def pipeline(request, airflow_database, tmp_path_factory):
    """Run each way of waiting, then a failing run, with each kind of credentials; return what to scan."""
    tokens: list[str] = []
    triggered: list[dict] = []  # each trigger's serialized kwargs, as the triggerer would get them
    original_issue = ServiceAccounts.issue
    original_trigger_run = AtlasRestoreJobTrigger.run

    def issue(self, *arguments):
        answer = original_issue(self, *arguments)
        if answer.status == 200:
            tokens.append(str(answer.body["access_token"]))
        return answer

    def trigger_run(self):
        triggered.append(self.serialize()[1])
        return original_trigger_run(self)

    with pytest.MonkeyPatch.context() as patch, captured_output() as output:
        patch.setattr(ServiceAccounts, "issue", issue)
        patch.setattr(AtlasRestoreJobTrigger, "run", trigger_run)
        with AtlasEmulator(
            public_key="public-key-sentinel", private_key=PRIVATE_KEY, ready_after=1.0
        ) as emulator:
            seed = seed_basic(emulator, size_bytes=64 * 1024)
            emulator.add_private_endpoint(seed.group_id, ENDPOINT)
            connection = emulator.connection(group_id=seed.group_id)
            connection["extra"]["allow_http_downloads"] = True
            if request.param == "service_account":
                connection["extra"]["private_endpoint_id"] = ENDPOINT
                client_id, _ = emulator.add_service_account(
                    "mdb_sa_id_0123456789abcdef01234567", CLIENT_SECRET
                )
                connection.update(login=client_id, password=CLIENT_SECRET)
                connection["extra"]["auth_type"] = "service_account"
            patch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
            destination = str(tmp_path_factory.mktemp("files"))
            results, jobs, links = {}, {}, {"public": [], "private": []}
            for name, (folder, dag_id, waiting_task) in RUNS.items():
                results[name] = result = run_dag(folder, dag_id, {"destination": destination})
                jobs[name] = job_id = result.xcom[waiting_task]["restore_job_id"]
                links["public"] += emulator.download_urls(seed.group_id, seed.cluster_name, job_id)
                links["private"] += emulator.private_download_urls(seed.group_id, seed.cluster_name, job_id)
            downloads = {
                route: emulator.stats.count(route=route, status=200)
                for route in ("download", "private_download")
            }
            emulator.ip_access_denied = True  # a second run fails: its error is scanned too
            failed = run_dag(EXAMPLE_DAGS, "atlas_snapshot_download", {"destination": destination})
    return {
        "kind": request.param,
        "results": results,
        "jobs": jobs,
        "triggered": triggered,
        "failed": failed,
        "links": links["public"] + links["private"],
        "public": links["public"],
        "private": links["private"],
        "downloads": downloads,
        "tokens": tokens,
        "output": output[0],
        "stored": {**_stored_rows(), "serialized triggers": json.dumps(triggered, default=str)},
    }


def _stored_rows() -> dict[str, str]:
    """Return, as text, what Airflow stored about the runs: XCom, rendered fields, triggers, deferrals."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    xcom = {
        f"{dag_id}/{stored.run_id}/{stored.task_id}/{stored.key}": json.dumps(stored.value, default=str)
        for dag_id in DAG_IDS
        for stored in stored_xcom(dag_id)
    }
    with create_session() as session:
        rendered = {
            f"{row.dag_id}/{row.run_id}/{row.task_id}": json.dumps(row.rendered_fields, default=str)
            for row in session.query(RenderedTaskInstanceFields).filter(
                RenderedTaskInstanceFields.dag_id.in_(DAG_IDS)
            )
        }
        triggers = json.dumps([str(row.kwargs) for row in session.query(Trigger)], default=str)
        deferrals = json.dumps(
            [
                str(row.next_kwargs)
                for row in session.query(TaskInstance).filter(TaskInstance.dag_id.in_(DAG_IDS))
            ]
        )
    return {**{f"xcom {k}": v for k, v in xcom.items()}, **{f"rendered {k}": v for k, v in rendered.items()},
            "triggers": triggers, "deferrals": deferrals}  # fmt: skip


def _secret_parts(link: str) -> list[str]:
    """Return the parts of a download link that grant access: the whole link and its token path."""
    return [link, urlsplit(link).path]


def test_runs_happened_as_expected(pipeline):
    assert {name: result.state for name, result in pipeline["results"].items()} == dict.fromkeys(
        RUNS, "success"
    )
    assert pipeline["failed"].task_states["create_restore"] == "failed"
    assert "IP_ADDRESS_NOT_ON_ACCESS_LIST" in pipeline["output"]  # the failure's text was captured
    assert pipeline["public"]
    assert pipeline["private"]
    assert bool(pipeline["tokens"]) == (pipeline["kind"] == "service_account")
    through_private = pipeline["kind"] == "service_account"
    assert pipeline["downloads"] == {  # the two example DAGs download; the poke test DAG does not
        "download": 0 if through_private else 2,
        "private_download": 2 if through_private else 0,
    }


def test_each_way_of_waiting_waited_as_named(pipeline):
    jobs = pipeline["jobs"]

    assert len(set(jobs.values())) == len(RUNS)  # one job a run
    # Deferred waits ran a trigger for their job (stored and scanned below); the poke wait none.
    assert sorted(kwargs["restore_job_id"] for kwargs in pipeline["triggered"]) == sorted(
        [jobs["create_and_wait_deferred"], jobs["sensor_deferred"]]
    )
    if AIRFLOW_V_3_0_PLUS:  # Airflow 3 stores each trigger, scanned too; 2.11's dag.test() stores none
        for deferred in ("create_and_wait_deferred", "sensor_deferred"):
            assert jobs[deferred] in pipeline["stored"]["triggers"]


def test_no_key_secret_or_token_in_logs_or_errors(pipeline):
    output = pipeline["output"]

    assert PRIVATE_KEY not in output
    assert CLIENT_SECRET not in output
    for token in pipeline["tokens"]:
        assert token not in output


def test_download_links_never_appear_in_logs(pipeline):
    for link in pipeline["links"]:
        for part in _secret_parts(link):
            assert part not in pipeline["output"]


def test_no_key_secret_or_token_in_anything_airflow_stored(pipeline):
    for where, text in pipeline["stored"].items():
        assert PRIVATE_KEY not in text, where
        assert CLIENT_SECRET not in text, where
        for token in pipeline["tokens"]:
            assert token not in text, where


def test_download_links_are_stored_nowhere_not_even_in_the_waiting_tasks_xcom(pipeline):
    holders = {
        where
        for where, text in pipeline["stored"].items()
        for link in pipeline["links"]
        if urlsplit(link).path in text
    }

    for name, (_, dag_id, waiting_task) in RUNS.items():
        run_id = pipeline["results"][name].run_id
        waited = json.loads(pipeline["stored"][f"xcom {dag_id}/{run_id}/{waiting_task}/return_value"])
        assert set(waited["delivery_urls"]) == {"***"}  # each link redacted, none missing
    assert holders == set()


FLEX_DAG_ID = "test_atlas_download_flex_snapshot"


def test_flex_snapshot_urls_never_appear_in_logs_errors_or_anything_airflow_stored(
    airflow_database, tmp_path, monkeypatch
):
    """A flex download (one renewed snapshotUrl, then a failing run) leaves its links nowhere."""
    from tests.conftest import TEST_DAGS

    with captured_output() as output, AtlasEmulator(private_key=PRIVATE_KEY) as emulator:
        group_id = emulator.add_project()
        emulator.add_flex_cluster(group_id, "Flex0")
        emulator.add_flex_snapshot(group_id, "Flex0", size_bytes=200_000)
        connection = emulator.connection(group_id=group_id)
        connection["extra"]["allow_http_downloads"] = True
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
        # A cut, then the link refused: the task asks for a second snapshotUrl and resumes.
        emulator.faults.add(route="flex_snapshot_file", kind="cut", after_bytes=100_000, count=1)
        emulator.faults.add(route="flex_snapshot_file", kind="status", status=410, skip=1, count=1)
        params = {"snapshot_id": "latest", "destination": str(tmp_path / "files")}
        result = run_dag(TEST_DAGS, FLEX_DAG_ID, params)
        emulator.faults.add(route="flex_snapshot_file", kind="corrupt", after_bytes=1000, count=None)
        failed = run_dag(TEST_DAGS, FLEX_DAG_ID, {**params, "destination": str(tmp_path / "again")})
        links = emulator.flex_snapshot_urls(group_id, "Flex0")
    monkeypatch.setitem(globals(), "DAG_IDS", [FLEX_DAG_ID])  # _stored_rows reads the flex DAG's rows
    stored = _stored_rows()

    assert result.task_states == {"download_flex": "success"}
    assert failed.task_states == {"download_flex": "failed"}
    assert "CorruptDownloadError" in output[0]  # the failure's text was captured
    assert len(links) == 3  # two for the first run (one renewed), one for the failing run
    assert any(
        key.startswith(f"xcom {FLEX_DAG_ID}/") and key.endswith("/download_flex/return_value")
        for key in stored
    )
    for link in links:
        token = urlsplit(link).path.split("/")[3]
        for secret in (*_secret_parts(link), token):
            assert secret not in output[0]
            for where, text in stored.items():
                assert secret not in text, where


SNAPSHOT_DAG_IDS = [
    "test_atlas_take_snapshot_wait_deferrable",
    "test_atlas_take_and_delete_snapshot",
    "test_atlas_delete_snapshot",
]


@pytest.mark.parametrize("kind", ["digest", "service_account"])
def test_snapshot_take_and_delete_leave_no_key_secret_or_token_anywhere(airflow_database, monkeypatch, kind):
    """A deferred take, a take then delete in poke mode, and a failing delete: scanned as the pipeline is."""
    from airflow_provider_atlas_restore.triggers.polling import AtlasResourceTrigger

    tokens: list[str] = []
    triggered: list[dict] = []
    original_issue, original_run = ServiceAccounts.issue, AtlasResourceTrigger.run

    def issue(self, *arguments):
        answer = original_issue(self, *arguments)
        if answer.status == 200:
            tokens.append(str(answer.body["access_token"]))
        return answer

    def trigger_run(self):
        triggered.append(self.serialize()[1])
        return original_run(self)

    monkeypatch.setattr(ServiceAccounts, "issue", issue)
    monkeypatch.setattr(AtlasResourceTrigger, "run", trigger_run)
    with captured_output() as output, AtlasEmulator(private_key=PRIVATE_KEY) as emulator:
        seed = seed_basic(emulator)
        emulator.backup_timings.snapshot_queued = 1.0  # real seconds: the deferred take defers
        connection = emulator.connection(group_id=seed.group_id)
        if kind == "service_account":
            client_id, _ = emulator.add_service_account("mdb_sa_id_0123456789abcdef01234567", CLIENT_SECRET)
            connection.update(login=client_id, password=CLIENT_SECRET)
            connection["extra"]["auth_type"] = "service_account"
        monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
        deferred = run_dag(TEST_DAGS, SNAPSHOT_DAG_IDS[0])
        cleaned = run_dag(TEST_DAGS, SNAPSHOT_DAG_IDS[1])
        emulator.ip_access_denied = True  # a failing run: its error is scanned too
        failed = run_dag(TEST_DAGS, SNAPSHOT_DAG_IDS[2], {"snapshot_id": seed.snapshot_id})
    monkeypatch.setitem(globals(), "DAG_IDS", SNAPSHOT_DAG_IDS)
    stored = {**_stored_rows(), "serialized triggers": json.dumps(triggered, default=str)}

    assert deferred.task_states == {"take": "success"}
    assert cleaned.task_states == {"take": "success", "delete": "success"}
    assert failed.task_states == {"delete": "failed"}
    assert [run["resource"]["fields"]["snapshot_id"] for run in triggered] == [
        deferred.xcom["take"]["snapshot_id"]
    ]
    assert "IP_ADDRESS_NOT_ON_ACCESS_LIST" in output[0]  # the failure's text was captured
    assert bool(tokens) == (kind == "service_account")
    for secret in (PRIVATE_KEY, CLIENT_SECRET, *tokens):
        assert secret not in output[0]
        for where, text in stored.items():
            assert secret not in text, where
