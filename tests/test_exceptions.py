"""Error messages read as a user reads them: one sentence after another, no `None`, advice included."""

from __future__ import annotations

import json
import pickle
import re

import pytest

from airflow_provider_atlas_restore.api.endpoints import AtlasRequests, oauth_token_request
from airflow_provider_atlas_restore.api.responses import error_from_response
from airflow_provider_atlas_restore.exceptions import AtlasApiError, AtlasResponseError, AtlasTransportError
from tests.conftest import CLUSTER, GROUP_ID, SHARED_API_DIR

REQUEST = AtlasRequests().list_restore_jobs_request(GROUP_ID, CLUSTER)
RECORDED_ERRORS = sorted((SHARED_API_DIR / "recorded").glob("v2-error-*.json"))


def assert_reads_well(error: AtlasApiError) -> None:
    message = str(error)
    assert ".." not in message
    assert "None" not in message
    assert "  " not in message
    assert not re.search(r"[.:;,] *[.:;,]", message), message  # no ". ." or ": ." and the like
    assert error.advice
    assert message.endswith(error.advice)


@pytest.mark.parametrize("path", RECORDED_ERRORS, ids=[path.stem for path in RECORDED_ERRORS])
def test_recorded_atlas_error_reads_as_sentences_with_advice(path):
    answer = json.loads(path.read_text())

    error = error_from_response(
        REQUEST, answer["status"], answer["headers"], json.dumps(answer["body"]).encode()
    )

    assert_reads_well(error)
    assert answer["body"]["detail"] in str(error)


def test_oauth_invalid_client_names_the_status_not_none_and_says_what_to_check():
    body = {"error": "invalid_client", "error_description": "Invalid client credentials."}

    error = error_from_response(oauth_token_request("id", "secret"), 401, {}, json.dumps(body).encode())

    assert_reads_well(error)
    assert str(error).startswith(
        "Atlas API POST /api/oauth/token failed: 401 Unauthorized (invalid_client): Invalid client credentials. "
    )
    assert error.reason is None  # the attribute keeps what Atlas sent


STATUSES = [400, 401, 403, 404, 405, 409, 410, 429, 500, 502, 503, 504]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("reason", [None, "", "Some Reason"])
@pytest.mark.parametrize(
    "detail", [None, "", "Plain detail", "Detail ending in a full stop.", "Double  spaced\n detail."]
)
def test_any_status_with_or_without_reason_and_detail_reads_well(status, reason, detail):
    body = {"error": status, "reason": reason, "detail": detail}

    error = error_from_response(REQUEST, status, {}, json.dumps(body).encode())

    assert_reads_well(error)
    assert (error.status, error.reason, error.detail) == (status, reason, detail)


def test_no_answer_reads_well_and_says_what_to_check():
    error = AtlasTransportError(
        status=None,
        method="GET",
        path=REQUEST.path,
        detail="connection failed: [Errno 111] Connection refused.",
    )

    assert_reads_well(error)
    assert "no answer" in str(error)


def test_unusable_success_answer_does_not_say_it_failed_with_200_none():
    error = AtlasResponseError(status=200, method="GET", path=REQUEST.path, detail="the answer is not a page")

    assert (
        str(error)
        == f"Atlas API GET {REQUEST.path} answered 200 OK, but the answer is unusable: the answer is not a page"
    )


def test_error_keeps_its_attributes_and_message_through_pickling():
    error = AtlasApiError(
        status=401, method="GET", path=REQUEST.path, error_code="invalid_client", detail="Bad.", reason=None
    )

    copy = pickle.loads(pickle.dumps(error))

    assert str(copy) == str(error)
    assert (copy.status, copy.error_code, copy.detail, copy.reason) == (401, "invalid_client", "Bad.", None)
    assert_reads_well(copy)
