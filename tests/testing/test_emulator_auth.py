"""Digest authentication as Atlas does it, proven with curl and requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import requests
from requests.auth import HTTPDigestAuth

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from airflow_provider_atlas_restore.testing.digest import (
    authorization_header,
    digest_response,
    parse_auth_params,
)
from tests.testing.conftest import V2_MEDIA, Urls

CHALLENGE_RE = re.compile(
    r'^Digest realm="MMS Public API", domain="", nonce="[^"]+", algorithm=MD5, qop="auth", stale=(true|false)$'
)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_digest_client_authenticates_and_lists_restore_jobs(emu: AtlasEmulator, urls: Urls) -> None:
    emu.add_restore_job(emu.seed.group_id, "Cluster0")  # type: ignore[union-attr]
    out = subprocess.run(
        ["curl", "--silent", "--show-error", "--digest", "-u", f"{emu.public_key}:{emu.private_key}",
         "-H", f"Accept: {V2_MEDIA}", "-w", "\n%{http_code}", urls.jobs()],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "200"
    assert json.loads(body)["totalCount"] == 1
    assert emu.stats.challenges == 1
    assert emu.stats.count(route="list_restore_jobs", status=200) == 1


def test_requests_session_pays_one_challenge_then_sends_preauthorised(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    for _ in range(5):
        assert session.get(urls.jobs()).status_code == 200
    assert emu.stats.challenges == 1
    assert emu.stats.count(status=401) == 1
    assert emu.stats.count(route="list_restore_jobs", status=200) == 5
    assert emu.stats.connections == 1  # keep-alive: one TCP connection for all six requests


def test_challenge_header_is_exactly_like_atlas(emu: AtlasEmulator, urls: Urls) -> None:
    resp = requests.get(urls.jobs(), headers={"Accept": V2_MEDIA})
    assert resp.status_code == 401
    assert CHALLENGE_RE.match(resp.headers["WWW-Authenticate"])
    assert resp.headers["WWW-Authenticate"].endswith("stale=false")


def test_wrong_keys_get_the_atlas_401_body_without_error_code(emu: AtlasEmulator, urls: Urls) -> None:
    resp = requests.get(
        urls.jobs(), auth=HTTPDigestAuth(emu.public_key, "wrong"), headers={"Accept": V2_MEDIA}
    )
    assert resp.status_code == 401
    assert resp.json() == {
        "reason": "Unauthorized",
        "error": 401,
        "detail": "You are not authorized for this resource.",
    }
    assert "X-Error-Code" not in resp.headers
    unknown_user = requests.get(urls.jobs(), auth=HTTPDigestAuth("nobody", emu.private_key))
    assert unknown_user.status_code == 401


def test_expired_nonce_gets_stale_true_and_the_client_recovers(
    emu: AtlasEmulator, clock: ManualClock, session: requests.Session, urls: Urls
) -> None:
    assert session.get(urls.jobs()).status_code == 200
    clock.advance(emu.nonce_ttl + 1)
    resp = session.get(urls.jobs())
    assert resp.status_code == 200
    assert [r.status_code for r in resp.history] == [401]
    assert resp.history[0].headers["WWW-Authenticate"].endswith("stale=true")
    assert emu.stats.challenges == 2


def _authorization(emu: AtlasEmulator, nonce: str, uri: str, nc: int, password: str) -> str:
    return authorization_header(emu.public_key, password, "GET", uri, nonce, nc, cnonce="abc")


def test_increasing_nonce_counts_are_accepted_and_a_replayed_one_is_stale(
    emu: AtlasEmulator, urls: Urls
) -> None:
    first = requests.get(urls.group(), headers={"Accept": V2_MEDIA})
    nonce = parse_auth_params(first.headers["WWW-Authenticate"][7:])["nonce"]
    uri = f"/api/atlas/v2/groups/{emu.seed.group_id}"  # type: ignore[union-attr]
    with requests.Session() as http:
        http.headers["Accept"] = V2_MEDIA
        for nc in (1, 2, 7):
            auth = _authorization(emu, nonce, uri, nc, emu.private_key)
            assert http.get(urls.group(), headers={"Authorization": auth}).status_code == 200
        replay = http.get(
            urls.group(), headers={"Authorization": _authorization(emu, nonce, uri, 2, emu.private_key)}
        )
        assert replay.status_code == 401
        assert replay.headers["WWW-Authenticate"].endswith("stale=true")
        wrong = http.get(urls.group(), headers={"Authorization": _authorization(emu, nonce, uri, 8, "bad")})
        assert wrong.headers["WWW-Authenticate"].endswith("stale=false")
        other_uri = _authorization(emu, nonce, uri + "/x", 9, emu.private_key)
        assert http.get(urls.group(), headers={"Authorization": other_uri}).status_code == 401


def test_second_api_key_can_be_added(emu: AtlasEmulator, urls: Urls) -> None:
    emu.add_api_key("other", "secret")
    resp = requests.get(urls.group(), auth=HTTPDigestAuth("other", "secret"), headers={"Accept": V2_MEDIA})
    assert resp.status_code == 200


def test_parse_auth_params_reads_quoted_commas_escapes_and_any_key_case() -> None:
    header = (
        'username="pub", Realm="MMS Public API", nonce="a,b\\"c", uri="/x?a=1,2", '
        'qop=auth, NC=00000001, cnonce="", junk, algorithm=MD5'
    )
    assert parse_auth_params(header) == {
        "username": "pub",
        "realm": "MMS Public API",
        "nonce": 'a,b"c',
        "uri": "/x?a=1,2",
        "qop": "auth",
        "nc": "00000001",
        "cnonce": "",
        "algorithm": "MD5",
    }


def test_parse_auth_params_reads_back_every_field_authorization_header_wrote() -> None:
    value = authorization_header("pub", "priv", "GET", "/api/atlas/v2/groups?a=1,b", "n0nce", 3)
    params = parse_auth_params(value.removeprefix("Digest "))
    assert params["uri"] == "/api/atlas/v2/groups?a=1,b"
    assert params["nc"] == "00000003"
    assert params["response"] == digest_response(
        "pub", "priv", "GET", "/api/atlas/v2/groups?a=1,b", "n0nce", "00000003", "0a4f113b5c7d9e21"
    )
