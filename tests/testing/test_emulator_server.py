"""Server mechanics: start/stop, keep-alive, thread safety, stats, connection helpers, quiet logs."""

from __future__ import annotations

import json
import socket
import threading
from urllib.parse import unquote, urlsplit

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.seeding import Seed
from tests.testing.conftest import V2_MEDIA, Urls, create_job


def test_start_returns_self_and_stop_releases_the_port() -> None:
    emu = AtlasEmulator(clock=ManualClock())
    assert emu.start() is emu
    port = emu.port
    assert emu.base_url == f"http://127.0.0.1:{port}"
    emu.stop()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    emu.stop()  # idempotent


def test_stop_ends_open_keepalive_connections_and_sleeping_faults(emu: AtlasEmulator, urls: Urls) -> None:
    with requests.Session() as http:
        http.auth = HTTPDigestAuth(emu.public_key, emu.private_key)
        http.headers["Accept"] = V2_MEDIA
        assert http.get(urls.group()).status_code == 200
        emu.faults.add("get_project", "delay", seconds=30)
        errors: list[BaseException] = []
        worker = threading.Thread(target=lambda: _swallow(errors, http.get, urls.group()))
        worker.start()
        emu.stop()
        worker.join(timeout=10)
        assert not worker.is_alive()


def _swallow(errors: list[BaseException], func: object, *args: object) -> None:
    try:
        func(*args)  # type: ignore[operator]
    except requests.RequestException as exc:
        errors.append(exc)


def test_concurrent_clients_are_served_consistently(emu: AtlasEmulator, seed: Seed, urls: Urls) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as http:
            http.auth = HTTPDigestAuth(emu.public_key, emu.private_key)
            http.headers["Accept"] = V2_MEDIA
            for _ in range(10):
                created = create_job(
                    http, urls.jobs(), {"deliveryType": "download", "snapshotId": seed.snapshot_id}
                )
                listed = http.get(urls.jobs(), params={"itemsPerPage": "1"})
                with lock:
                    statuses.extend([created.status_code, listed.status_code])

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 160
    assert emu.stats.count(route="create_restore_job", status=200) == 80
    assert len(emu.store.cluster(seed.group_id, "Cluster0").jobs) == 80
    assert emu.stats.connections == 8


def test_stats_filter_and_reset(emu: AtlasEmulator, session: requests.Session, urls: Urls) -> None:
    session.get(urls.group())
    session.get(urls.jobs())
    session.get(urls.jobs("Nope"))
    assert emu.stats.count() == 4
    assert emu.stats.count(route="list_restore_jobs") == 2
    assert emu.stats.count(method="get", status=404) == 1
    assert emu.stats.as_dict()["get_project GET 401"] == 1
    emu.stats.reset()
    assert (emu.stats.count(), emu.stats.challenges, emu.stats.connections) == (0, 0, 0)


def test_request_log_keeps_each_answers_path_in_order(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    session.get(urls.jobs())
    session.get(urls.jobs("Nope"))

    logged = emu.stats.requests()
    assert [(r.route, r.method, r.status) for r in logged] == [
        ("list_restore_jobs", "GET", 401),  # the session's Digest challenge
        ("list_restore_jobs", "GET", 200),
        ("list_restore_jobs", "GET", 404),
    ]
    assert [r.path for r in emu.stats.requests(path_contains="/clusters/Nope/")] == [
        urlsplit(urls.jobs("Nope")).path
    ]
    emu.stats.reset()
    assert emu.stats.requests() == []


def test_connection_helpers_point_at_the_emulator(emu: AtlasEmulator, seed: Seed) -> None:
    emu.add_api_key("pub/key", "p@ss:word")
    emu.public_key, emu.private_key = "pub/key", "p@ss:word"
    conn = emu.connection(group_id=seed.group_id)
    assert conn == {
        "conn_type": "mongodb_atlas",
        "host": "127.0.0.1",
        "port": emu.port,
        "login": "pub/key",
        "password": "p@ss:word",
        "extra": {"scheme": "http", "allow_http_downloads": True, "group_id": seed.group_id},
    }
    assert json.loads(emu.connection_json(group_id=seed.group_id)) == conn
    uri = urlsplit(emu.connection_uri(group_id=seed.group_id))
    assert uri.scheme == "mongodb-atlas"
    assert (unquote(uri.username or ""), unquote(uri.password or "")) == ("pub/key", "p@ss:word")
    assert (uri.hostname, uri.port) == ("127.0.0.1", emu.port)
    assert uri.query == f"scheme=http&allow_http_downloads=true&group_id={seed.group_id}"


def test_requests_are_not_logged_to_stderr(
    session: requests.Session, urls: Urls, capfd: pytest.CaptureFixture[str]
) -> None:
    session.get(urls.group())
    session.get(urls.jobs("Nope"))
    assert capfd.readouterr().err == ""
