"""Service-account tokens, the token endpoint's rate limit and the IP access-list switch."""

from __future__ import annotations

import requests

from airflow_provider_atlas_restore.testing import AtlasEmulator, ManualClock
from tests.testing.conftest import V2_MEDIA, Urls


def get_token(
    emu: AtlasEmulator, client_id: str, secret: str, grant: str = "client_credentials"
) -> requests.Response:
    return requests.post(
        f"{emu.base_url}/api/oauth/token", auth=(client_id, secret), data={"grant_type": grant}
    )


def test_client_credentials_token_authorises_api_calls_until_it_expires(
    emu: AtlasEmulator, clock: ManualClock, urls: Urls
) -> None:
    client_id, secret = emu.add_service_account()
    assert client_id.startswith("mdb_sa_id_")
    resp = get_token(emu, client_id, secret)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}", "Accept": V2_MEDIA}
    assert requests.get(urls.jobs(), headers=bearer).status_code == 200
    clock.advance(3599)
    assert requests.get(urls.jobs(), headers=bearer).status_code == 200
    clock.advance(1)
    expired = requests.get(urls.jobs(), headers=bearer)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "You are not authorized for this resource."


def test_token_ttl_is_configurable_and_unknown_tokens_are_refused(urls: Urls) -> None:
    with AtlasEmulator(token_ttl=60, clock=ManualClock()) as emu:
        client_id, secret = emu.add_service_account("mdb_sa_id_x", "mdb_sa_sk_y")
        assert get_token(emu, client_id, secret).json()["expires_in"] == 60
        gid = emu.add_project()
        resp = requests.get(
            f"{emu.base_url}/api/atlas/v2/groups/{gid}", headers={"Authorization": "Bearer nope"}
        )
        assert resp.status_code == 401


def test_bad_client_secret_or_grant_is_refused(emu: AtlasEmulator) -> None:
    client_id, secret = emu.add_service_account()
    wrong = get_token(emu, client_id, "wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert get_token(emu, client_id, secret, grant="password").status_code == 400
    assert (
        requests.post(
            f"{emu.base_url}/api/oauth/token", data={"grant_type": "client_credentials"}
        ).status_code
        == 401
    )


def test_token_endpoint_is_rate_limited_with_retry_after(emu: AtlasEmulator, clock: ManualClock) -> None:
    client_id, secret = emu.add_service_account()
    statuses = [get_token(emu, client_id, secret).status_code for _ in range(10)]
    assert statuses == [200] * 10
    limited = get_token(emu, client_id, secret)
    assert limited.status_code == 429
    assert limited.json()["errorCode"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) == 60
    clock.advance(60)
    assert get_token(emu, client_id, secret).status_code == 200
    assert emu.stats.count(route="oauth_token", status=429) == 1


def test_ip_access_list_is_checked_when_the_token_is_used_not_when_made(
    emu: AtlasEmulator, urls: Urls
) -> None:
    client_id, secret = emu.add_service_account()
    emu.ip_access_denied = True
    token = get_token(emu, client_id, secret)
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}", "Accept": V2_MEDIA}
    denied = requests.get(urls.jobs(), headers=bearer)
    assert denied.status_code == 403
    assert denied.json()["errorCode"] == "IP_ADDRESS_NOT_ON_ACCESS_LIST"
    assert denied.headers["X-Error-Code"] == "IP_ADDRESS_NOT_ON_ACCESS_LIST"
    emu.ip_access_denied = False
    assert requests.get(urls.jobs(), headers=bearer).status_code == 200


def test_ip_access_switch_answers_403_to_digest_clients_after_authentication(
    emu: AtlasEmulator, session: requests.Session, urls: Urls
) -> None:
    emu.ip_access_denied = True
    assert session.get(urls.group()).status_code == 403
    assert emu.stats.count(status=401) == 1
