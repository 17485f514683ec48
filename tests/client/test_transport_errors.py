"""Which transport failures surely sent nothing: only those make a create request safe to repeat."""

from __future__ import annotations

import httpx
import pytest
import requests

from airflow_provider_atlas_restore.client.transport_errors import failed_before_sending

REQUEST = httpx.Request("POST", "https://cloud.example.invalid/api")


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused", request=REQUEST),
        httpx.ConnectTimeout("no answer to SYN", request=REQUEST),
        httpx.PoolTimeout("every pooled connection busy", request=REQUEST),
        requests.exceptions.ConnectTimeout("no answer to SYN"),
    ],
    ids=type,
)
def test_a_connection_never_made_sent_nothing(error):
    assert failed_before_sending(error)


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("sent, no answer", request=REQUEST),
        httpx.RemoteProtocolError("closed mid-answer", request=REQUEST),
        requests.exceptions.ReadTimeout("sent, no answer"),
        requests.exceptions.ConnectionError("reset after sending"),
    ],
    ids=type,
)
def test_a_failure_after_connecting_may_have_sent_the_request(error):
    assert not failed_before_sending(error)
