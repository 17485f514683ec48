"""A hostile service-account token endpoint that echoes the request's headers in its error pages."""

from __future__ import annotations

import base64
import json

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasApiError
from tests.conftest import PRIVATE_KEY, PUBLIC_KEY
from tests.hostile_server import Reply, SeenRequest

BASIC = base64.b64encode(f"{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()


def echo_page(request: SeenRequest) -> bytes:
    """Return an HTML error page that quotes the request's headers, the Basic credential decoded too."""
    authorization = request.headers.get("authorization", "")
    decoded = base64.b64decode(authorization.partition(" ")[2]).decode(errors="replace")
    lines = [f"Authorization: {authorization} ({decoded})"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("<html><body><h1>Request rejected</h1><pre>" + "\n".join(lines) + "</pre></body></html>").encode()


def echo_json(request: SeenRequest) -> bytes:
    """Return an OAuth error whose description quotes the request's Authorization header."""
    description = f"malformed header Authorization: {request.headers.get('authorization')} rejected"
    return json.dumps({"error": "invalid_request", "error_description": description}).encode()


@pytest.mark.parametrize(
    ("content_type", "echo"), [("text/html", echo_page), ("application/json", echo_json)]
)
@pytest.mark.parametrize("status", [401, 503])
def test_token_endpoint_echoing_the_request_headers_leaks_no_credential(
    status, content_type, echo, hostile_server, hostile_connection, new_hook, log_text
):
    hostile_server.handler = lambda request: Reply(status, [("Content-Type", content_type)], echo(request))
    hostile_connection(hostile_server, auth_type="service_account", retry_max_attempts=2)
    hook = new_hook()

    with pytest.raises(AtlasApiError) as caught:
        hook.get_project()

    assert hostile_server.requests[0].headers["authorization"] == f"Basic {BASIC}"
    assert caught.value.status == status
    output = str(caught.value) + repr(caught.value.__dict__) + log_text()
    assert BASIC not in output
    assert PRIVATE_KEY not in output


def test_token_endpoint_oauth_error_keeps_its_code_and_a_short_description(
    hostile_server, hostile_connection, new_hook
):
    body = {"error": "invalid_client", "error_description": "unknown client " + "x" * 500, "echo": BASIC}
    hostile_server.handler = lambda request: Reply(
        401, [("Content-Type", "application/json")], json.dumps(body).encode()
    )
    hostile_connection(hostile_server, auth_type="service_account")

    hook = new_hook()
    with pytest.raises(AtlasApiError) as caught:
        hook.get_project()

    assert caught.value.error_code == "invalid_client"
    assert "unknown client xxx" in str(caught.value)
    assert len(caught.value.detail or "") <= 130
    assert BASIC not in repr(caught.value.__dict__)
