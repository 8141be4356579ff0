"""api_error: the server's error bodies become the client's typed exceptions."""

from __future__ import annotations

from typing import Any

import pytest

from pushauth_server import errors as server_errors
from pushauth_server.client import errors
from tests.server.test_http_errors import SUBCLASSES

BY_STATUS: dict[int, type[errors.ApiError]] = {
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    429: errors.Refused,
    503: errors.Refused,
}
BY_CODE: dict[str, type[errors.ApiError]] = {
    "credential_revoked": errors.CredentialRevoked,
    "no_enrolled_device": errors.NoEnrolledDevice,
    "challenge_not_pending": errors.ChallengeNotPending,
}


def body(code: str, message: str = "Clear words.", **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


@pytest.mark.parametrize("server_error", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_server_error_becomes_a_typed_client_error(
    server_error: type[server_errors.PushAuthError],
) -> None:
    error = errors.api_error(server_error.status_code, body(server_error.code, k="v"))
    expected = BY_CODE.get(server_error.code) or BY_STATUS.get(
        server_error.status_code, errors.ApiError
    )
    assert type(error) is expected
    assert isinstance(error, errors.ClientError)
    assert error.status_code == server_error.status_code
    assert error.code == server_error.code
    assert error.message == "Clear words."
    assert str(error) == "Clear words."
    assert error.details == {"k": "v"}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "invalid_api_key", errors.Unauthorized),
        (401, "replayed_proof", errors.Unauthorized),
        (403, "credential_revoked", errors.CredentialRevoked),
        (403, "wrong_account", errors.Forbidden),
        (404, "challenge_not_found", errors.NotFound),
        (409, "challenge_not_pending", errors.ChallengeNotPending),
        (409, "no_enrolled_device", errors.NoEnrolledDevice),
        (409, "credential_already_revoked", errors.Conflict),
        (429, "rate_limited", errors.Refused),
        (400, "invalid_request", errors.ApiError),
        (500, "internal_error", errors.ApiError),
        (418, "teapot", errors.ApiError),
    ],
)
def test_mapping_by_code_then_status(status: int, code: str, cls: type[errors.ApiError]) -> None:
    assert type(errors.api_error(status, body(code))) is cls


def test_codes_win_over_statuses() -> None:
    # A specific code maps to its class whatever the status says.
    assert type(errors.api_error(400, body("challenge_not_pending"))) is errors.ChallengeNotPending


def test_retry_after() -> None:
    error = errors.api_error(429, body("rate_limited", retry_after_seconds=30))
    assert error.retry_after == 30.0
    assert errors.api_error(429, body("rate_limited")).retry_after is None
    assert (
        errors.api_error(429, body("rate_limited", retry_after_seconds="soon")).retry_after is None
    )


@pytest.mark.parametrize(
    "payload",
    [None, [], "Bad Gateway", {"detail": "x"}, {"error": "flat string"}, {"error": None}],
)
def test_bodies_without_our_error_shape(payload: Any) -> None:
    error = errors.api_error(502, payload)
    assert type(error) is errors.ApiError
    assert error.code == "http_error"
    assert "502" in error.message
    assert error.details == {}


def test_details_that_are_not_an_object_are_dropped() -> None:
    error = errors.api_error(409, {"error": {"code": "conflict", "details": ["x"]}})
    assert error.details == {}
    assert error.message == ""
