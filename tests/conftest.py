"""Shared fixtures: an isolated Airflow home, a connection, the shared Atlas reference data."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DAGS = REPO_ROOT / "tests" / "dags"
EXAMPLE_DAGS = REPO_ROOT / "example_dags"

# Airflow reads its home and config when first imported: point it at a throw-away folder first,
# with the test DAGs and the example DAGs as the two DAG bundles that dag.test() syncs from. Each
# process makes its own: pytest-xdist's workers inherit the environment of the process that starts
# them, and two workers sharing one home would share one SQLite metadata database.
if os.environ.get("AIRFLOW_HOME") in (None, os.environ.get("ATLAS_TESTS_OWN_AIRFLOW_HOME")):
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"atlas-provider-airflow-home-{_worker}-")
    os.environ["ATLAS_TESTS_OWN_AIRFLOW_HOME"] = os.environ["AIRFLOW_HOME"]
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(TEST_DAGS))
os.environ.setdefault(
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
    json.dumps(
        [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path), "refresh_interval": 0},
            }
            for name, path in (("tests", TEST_DAGS), ("examples", EXAMPLE_DAGS))
        ]
    ),
)

SHARED_API_DIR = REPO_ROOT.parent / "shared" / "atlas-api"
GROUP_ID = "6a793f6b2c88faeba59bae37"
CLUSTER = "backupRestores-305"
JOB_ID = "6a7948342c88faeba59eb866"
FAKE_HOST = "atlas.example.invalid"
BASE_URL = f"https://{FAKE_HOST}"
PUBLIC_KEY = "testpublickey"
PRIVATE_KEY = "private-key-sentinel-0f3c9a"


def connection_json(**overrides: Any) -> str:
    """Return the JSON form of an AIRFLOW_CONN_... value for a fake Atlas host."""
    extra = {"group_id": GROUP_ID, **overrides.pop("extra", {})}
    connection = {
        "conn_type": "mongodb_atlas",
        "host": FAKE_HOST,
        "login": PUBLIC_KEY,
        "password": PRIVATE_KEY,
        "extra": extra,
        **overrides,
    }
    return json.dumps(connection)


@pytest.fixture
def atlas_connection(monkeypatch: pytest.MonkeyPatch) -> str:
    """Define the default ``mongodb_atlas`` connection through its environment variable."""
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", connection_json())
    return "mongodb_atlas_default"


@pytest.fixture
def sleeps() -> list[float]:
    """Collect the waits a hook would have slept, so tests never really sleep."""
    return []


@pytest.fixture
def hook(atlas_connection: str, sleeps: list[float]) -> Any:
    """Return an AtlasHook on the fake host whose retry waits are recorded, not slept."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    atlas_hook = AtlasHook(atlas_conn_id=atlas_connection)
    atlas_hook.sleep = sleeps.append
    yield atlas_hook
    atlas_hook.close()


@pytest.fixture(scope="session")
def shared_api_dir() -> Path:
    """Return ../shared/atlas-api beside the repository, or skip when it is not there."""
    if not SHARED_API_DIR.is_dir():
        pytest.skip(f"the Atlas reference folder {SHARED_API_DIR} is not beside this checkout")
    return SHARED_API_DIR


def load_recorded(shared_api_dir: Path, name: str) -> dict[str, Any]:
    """Return one recorded Atlas answer: status, headers and body."""
    return json.loads((shared_api_dir / "recorded" / f"{name}.json").read_text())


@pytest.fixture
def recorded(shared_api_dir: Path) -> Any:
    """Return a loader of recorded Atlas answers by file name (without .json)."""
    return lambda name: load_recorded(shared_api_dir, name)


def jobs_url(group_id: str = GROUP_ID, cluster: str = CLUSTER, version: str = "v2") -> str:
    """Return the restore-jobs URL on the fake host."""
    return f"{BASE_URL}/api/atlas/{version}/groups/{group_id}/clusters/{cluster}/backup/restoreJobs"


def make_job(index: int, **fields: Any) -> dict[str, Any]:
    """Return a pending download job with a deterministic id."""
    return {
        "id": f"{index:024x}",
        "deliveryType": "download",
        "deliveryUrl": [],
        "cancelled": False,
        "expired": False,
        "failed": False,
        "snapshotId": "6a79468a2c88faeba59de489",
        **fields,
    }


def page_body(
    jobs: list[dict[str, Any]],
    *,
    total: int | None = None,
    next_link: bool = False,
) -> dict[str, Any]:
    """Return a list answer with ``links`` (self, and next when asked) and ``totalCount``."""
    links = [{"rel": "self", "href": f"{BASE_URL}/self"}]
    if next_link:
        links.append({"rel": "next", "href": f"{BASE_URL}/next"})
    body: dict[str, Any] = {"links": links, "results": jobs}
    if total is not None:
        body["totalCount"] = total
    return body


@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Any:
    """
    Return a function giving all log output so far, each record once.

    Stdlib records come from caplog. Airflow 3 logs through structlog too, which prints to
    stdout; Airflow 2.11 logs through stdlib logging only, and its console handler copies every
    record to stdout, so there stdout would repeat what caplog has (without the logger's name).
    """
    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    caplog.set_level("DEBUG")

    def read() -> str:
        captured = capsys.readouterr()
        if not AIRFLOW_V_3_0_PLUS:
            return caplog.text
        return caplog.text + captured.out + captured.err

    return read


@pytest.fixture(scope="session")
def airflow_database() -> None:
    """Create Airflow's metadata database once per test session."""
    from airflow_provider_atlas_restore.testing.dag_runs import migrate_database

    migrate_database()


@pytest.fixture
def emulator_connection(atlas_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the default ``mongodb_atlas`` connection at the running emulator's seeded project."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT",
        atlas_emulator.connection_json(group_id=atlas_emulator.seed.group_id),
    )
    return "mongodb_atlas_default"


#: Retry waits for tests that inject transient faults: a short backoff, set as connection extras.
#: (Monkeypatching ``RetryPolicy.initial_wait`` has no effect: the dataclass's defaults are bound
#: into ``__init__`` when the class is made.)
QUICK_RETRY_EXTRAS = {"retry_initial_wait": 0.01, "retry_max_wait": 0.02}


@pytest.fixture
def quick_retry_connection(atlas_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the default connection at the emulator's seeded project, retrying 5xx after 0.01-0.02 s waits."""
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    connection["extra"].update(QUICK_RETRY_EXTRAS)
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
    return "mongodb_atlas_default"


@pytest.fixture(autouse=True)
def _no_shared_tokens() -> Any:
    """Start and end every test without cached service-account tokens."""
    from airflow_provider_atlas_restore.client.tokens import forget_tokens

    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def service_account_connection(atlas_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Point the default connection at the emulator with a service account; return (id, secret)."""
    client_id, secret = atlas_emulator.add_service_account()
    connection = atlas_emulator.connection(group_id=atlas_emulator.seed.group_id)
    connection.update(login=client_id, password=secret)
    connection["extra"]["auth_type"] = "service_account"
    monkeypatch.setenv("AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", json.dumps(connection))
    return client_id, secret


@pytest.fixture
def hostile_server() -> Any:
    """Return a started :class:`~tests.hostile_server.HostileServer` on loopback; stopped after the test."""
    from tests.hostile_server import HostileServer

    server = HostileServer().start()
    yield server
    server.stop()


@pytest.fixture
def second_hostile_server() -> Any:
    """Return another started :class:`~tests.hostile_server.HostileServer`, for redirect targets."""
    from tests.hostile_server import HostileServer

    server = HostileServer().start()
    yield server
    server.stop()


@pytest.fixture
def tls_hostile_server() -> Any:
    """Return a started :class:`~tests.hostile_server.HostileServer` serving https (its CA: ``.ca_file``)."""
    from tests.hostile_server import HostileServer

    server = HostileServer(tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def hostile_connection(monkeypatch: pytest.MonkeyPatch) -> Any:
    """
    Return a function pointing the default connection at a hostile server, with extras; it returns the id.

    By default one attempt per call, no backoff, and short timeouts.
    """

    def point_at(server: Any, **extra: Any) -> str:
        scheme, _, address = server.base_url.partition("://")
        host, _, port = address.partition(":")
        settings = {
            "scheme": scheme,
            "retry_max_attempts": 1,
            "retry_initial_wait": 0,
            "connect_timeout": 2,
            "timeout": 5,
            **extra,
        }
        monkeypatch.setenv(
            "AIRFLOW_CONN_MONGODB_ATLAS_DEFAULT", connection_json(host=host, port=int(port), extra=settings)
        )
        return "mongodb_atlas_default"

    return point_at


@pytest.fixture
def new_hook(sleeps: list[float]) -> Any:
    """Return a maker of AtlasHooks on the default connection (waits recorded, not slept); all closed after."""
    from airflow_provider_atlas_restore.hooks.atlas import AtlasHook

    hooks: list[AtlasHook] = []

    def make(**arguments: Any) -> AtlasHook:
        atlas_hook = AtlasHook(**arguments)
        atlas_hook.sleep = sleeps.append
        hooks.append(atlas_hook)
        return atlas_hook

    yield make
    for atlas_hook in hooks:
        atlas_hook.close()


def run_as_a_user(command: list[str], cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (280 s at most) with none of this suite's Airflow settings, plus ``environment``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(environment)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=280, check=False)


# --- GCS server (gcp-storage-emulator) ---
#: The Airflow connection id the attached gcsfs file system answers to (no connection is defined).
GCS_TEST_CONN_ID = "atlas_test_gcs"


@pytest.fixture(scope="session")
def gcs_server() -> Any:
    """Return a started :class:`~tests.gcs_server.GcsEmulatorServer` on loopback, for the whole session."""
    pytest.importorskip("gcp_storage_emulator", reason="gcp-storage-emulator is not installed")
    pytest.importorskip("gcsfs", reason="gcsfs is not installed")
    from tests.gcs_server import GcsEmulatorServer

    server = GcsEmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def gcs_bucket(gcs_server: Any) -> str:
    """Create a bucket of a fresh name on the GCS server and return its name."""
    import uuid

    return str(gcs_server.create_bucket(f"atlas-test-{uuid.uuid4().hex[:16]}"))


def _airflow_object_store_module() -> Any:
    """Return Airflow's module holding ``attach`` and its store cache (3.x: task SDK; 2.11: airflow.io)."""
    from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.io import store
    else:
        from airflow.io import store
    return store


@pytest.fixture
def gcs_object_storage(gcs_server: Any) -> Any:
    """
    Attach a fresh gcsfs file system on the GCS server to Airflow as ``gs`` with conn id ``atlas_test_gcs``.

    ``ObjectStoragePath("gs://BUCKET/...", conn_id="atlas_test_gcs")`` (or
    ``"gs://atlas_test_gcs@BUCKET/..."``) then reaches the server. Give the conn id: on
    Airflow 3.x a ``gs://`` path without one sends most operations to a gcsfs of its own making,
    not to this one. Returns the attached file system; detached after the test.
    """
    store = _airflow_object_store_module()
    alias = f"gs-{GCS_TEST_CONN_ID}"
    # attach() returns an already cached store unchanged, so a fresh one needs the cache entry gone.
    # Airflow has no public detach: removing the entry from its store cache is the only way.
    store._STORE_CACHE.pop(alias, None)
    file_system = gcs_server.file_system()
    store.attach(protocol="gs", conn_id=GCS_TEST_CONN_ID, fs=file_system)
    yield file_system
    store._STORE_CACHE.pop(alias, None)


# --- end GCS server (gcp-storage-emulator) ---


# --- S3 servers (moto) ---
# Real S3 servers on loopback (tests/storage_servers.py): one moto per session for most tests, one
# enforcing IAM for permission tests, and a byte-counting proxy. Each connection fixture has its
# own conn id and drops Airflow's cached store for it before and after, so no two fixtures (nor two
# tests) ever share a file system bound to another endpoint or other credentials.
import uuid  # noqa: E402  (the S3 block keeps its imports with it)
from collections.abc import Iterator  # noqa: E402

from tests.storage_servers import (  # noqa: E402
    CountingProxy,
    MotoS3Server,
    MotoS3ServerWithIam,
    forget_object_stores,
    object_keys,
    unfinished_uploads,
)

#: The ``aws`` connection to the session's moto server (default credentials).
S3_CONN_ID = "atlas_test_s3"
#: The ``aws`` connection to the session's moto server through the test's counting proxy.
S3_COUNTED_CONN_ID = "atlas_test_s3_counted"
#: The ``aws`` connections to the IAM moto server, as its admin and as its read-only user.
S3_ADMIN_CONN_ID = "atlas_test_s3_admin"
S3_READ_ONLY_CONN_ID = "atlas_test_s3_read_only"


def define_aws_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str) -> None:
    """Set ``AIRFLOW_CONN_<CONN_ID>`` (inherited by subprocesses) and drop any store cached for it."""
    forget_object_stores(conn_id)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)


def new_bucket(client: Any) -> str:
    """Create a bucket with a name no other test uses; return the name."""
    name = f"atlas-test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    return name


def remove_bucket(client: Any, bucket: str) -> None:
    """Abort the bucket's unfinished uploads, delete its objects, then the bucket (moto keeps them in memory)."""
    for upload in unfinished_uploads(client, bucket):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    keys = object_keys(client, bucket)
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Server]:
    """Return the session's moto S3 server (default credentials accepted); stopped at the end."""
    server = MotoS3Server(tmp_path_factory.mktemp("moto-s3")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: MotoS3Server) -> Iterator[str]:
    """Return the name of a new empty bucket on ``s3_server``; removed with its contents after the test."""
    client = s3_server.client()
    bucket = new_bucket(client)
    yield bucket
    remove_bucket(client, bucket)


@pytest.fixture
def aws_connection(s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Define the ``aws`` connection ``atlas_test_s3`` to ``s3_server``; return its conn id."""
    define_aws_connection(monkeypatch, S3_CONN_ID, s3_server.connection_json())
    yield S3_CONN_ID
    forget_object_stores(S3_CONN_ID)


@pytest.fixture
def s3_counting_proxy(s3_server: MotoS3Server) -> Iterator[CountingProxy]:
    """Return a started :class:`~tests.storage_servers.CountingProxy` in front of ``s3_server``; stopped after."""
    proxy = CountingProxy(s3_server.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def aws_counting_connection(
    s3_server: MotoS3Server, s3_counting_proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Define the ``aws`` connection ``atlas_test_s3_counted`` through ``s3_counting_proxy``; return its id."""
    value = s3_server.connection_json(endpoint_url=s3_counting_proxy.endpoint_url)
    define_aws_connection(monkeypatch, S3_COUNTED_CONN_ID, value)
    yield S3_COUNTED_CONN_ID
    forget_object_stores(S3_COUNTED_CONN_ID)


@pytest.fixture(scope="session")
def s3_server_with_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3ServerWithIam]:
    """Return a second moto server that enforces IAM, with ``.admin`` and ``.read_only`` credentials."""
    server = MotoS3ServerWithIam.start(tmp_path_factory.mktemp("moto-s3-iam"))
    yield server
    server.stop()


@pytest.fixture
def iam_s3_bucket(s3_server_with_iam: MotoS3ServerWithIam) -> Iterator[str]:
    """Return the name of a new empty bucket on ``s3_server_with_iam`` (made by the admin); removed after."""
    client = s3_server_with_iam.admin_client()
    bucket = new_bucket(client)
    yield bucket
    remove_bucket(client, bucket)


@pytest.fixture
def aws_admin_connection(
    s3_server_with_iam: MotoS3ServerWithIam, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Define the ``aws`` connection ``atlas_test_s3_admin`` (every action allowed); return its id."""
    value = s3_server_with_iam.server.connection_json(s3_server_with_iam.admin)
    define_aws_connection(monkeypatch, S3_ADMIN_CONN_ID, value)
    yield S3_ADMIN_CONN_ID
    forget_object_stores(S3_ADMIN_CONN_ID)


@pytest.fixture
def aws_read_only_connection(
    s3_server_with_iam: MotoS3ServerWithIam, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Define the ``aws`` connection ``atlas_test_s3_read_only`` (s3:GetObject, s3:ListBucket); return its id."""
    value = s3_server_with_iam.server.connection_json(s3_server_with_iam.read_only)
    define_aws_connection(monkeypatch, S3_READ_ONLY_CONN_ID, value)
    yield S3_READ_ONLY_CONN_ID
    forget_object_stores(S3_READ_ONLY_CONN_ID)


# --- S3 servers (moto) ---


# --- triggers ---


@pytest.fixture
def triggers_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the settings of each restore-job trigger that runs (dag.test runs them in this process)."""
    from airflow_provider_atlas_restore.triggers.restore_job import AtlasRestoreJobTrigger

    runs: list[dict[str, Any]] = []
    real_run = AtlasRestoreJobTrigger.run

    def recorded_run(self: AtlasRestoreJobTrigger) -> Any:
        runs.append(self.serialize()[1])
        return real_run(self)

    monkeypatch.setattr(AtlasRestoreJobTrigger, "run", recorded_run)
    return runs


@pytest.fixture
def resource_triggers_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the watched resource of each AtlasResourceTrigger that runs (dag.test runs them in this process)."""
    from airflow_provider_atlas_restore.triggers.polling import AtlasResourceTrigger

    runs: list[dict[str, Any]] = []
    real_run = AtlasResourceTrigger.run

    def recorded_run(self: AtlasResourceTrigger) -> Any:
        runs.append(self.serialize()[1]["resource"])
        return real_run(self)

    monkeypatch.setattr(AtlasResourceTrigger, "run", recorded_run)
    return runs
