"""Hostile input is a 4xx with our error body, never a 500 (issue 9): deep JSON, invalid UTF-8,
huge integers, the wrong media type, and a 405 that says which methods are allowed."""

from __future__ import annotations

import pytest

from pushauth_server.client import enrollment_proof
from pushauth_server.protocol import generate_private_key
from tests.server.conftest import Device, Harness, assert_error, fresh_user

BODY_ROUTES = ["/v1/device/register", "/v1/device/challenges/ch_x/response"]
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("depth", [40, 1000, 10_000])
async def test_deeply_nested_json_is_a_400(harness: Harness, path: str, depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    response = await harness.client.post(path, content=body, headers=JSON)
    assert_error(response, 400, "invalid_request")
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    assert_error(
        await harness.client.post(path, content=nested, headers=JSON), 400, "invalid_request"
    )


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_invalid_utf8_is_a_400(harness: Harness, path: str) -> None:
    body = b'{"token": "\xff\xfe", "device_name": "\xc3"}'
    error = assert_error(
        await harness.client.post(path, content=body, headers=JSON), 400, "invalid_request"
    )
    assert "UTF-8" in error["message"]


async def test_the_rp_routes_refuse_bad_json_too(harness: Harness) -> None:
    body = b'{"user_id": "' + b"\xed\xa0\x80" + b'"}'  # an encoded surrogate is not UTF-8
    response = await harness.rp("POST", "/v1/enrollment-tokens", content=body, headers=JSON)
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_application_json_is_a_415(
    harness: Harness, content_type: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await harness.rp(
        "POST", "/v1/enrollment-tokens", content=b'{"user_id": "alice"}', headers=headers
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_json_with_a_charset_parameter_is_accepted(harness: Harness) -> None:
    response = await harness.rp(
        "POST",
        "/v1/enrollment-tokens",
        content=b'{"user_id": "alice"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("name", ["since_ms", "after_id"])
@pytest.mark.parametrize("value", [2**63, 2**64, 10**30])
async def test_huge_integers_in_the_audit_query_are_a_400(
    harness: Harness, name: str, value: int
) -> None:
    response = await harness.rp("GET", f"/v1/audit?{name}={value}")
    error = assert_error(response, 400, "invalid_request")
    assert name in error["message"]


async def test_the_audit_stream_refuses_a_huge_after_id_before_it_starts(harness: Harness) -> None:
    response = await harness.rp("GET", f"/v1/audit/stream?after_id={2**63}")
    assert_error(response, 400, "invalid_request")


async def test_the_largest_64_bit_integer_is_accepted(harness: Harness) -> None:
    response = await harness.rp("GET", f"/v1/audit?since_ms={2**63 - 1}&after_id={2**63 - 1}")
    assert response.status_code == 200, response.text
    assert response.json()["events"] == []


@pytest.mark.parametrize(("method", "path"), [("TRACE", "/health"), ("DELETE", "/v1/challenges")])
async def test_a_405_says_which_methods_are_allowed(
    harness: Harness, method: str, path: str
) -> None:
    response = await harness.rp(method, path)
    error = assert_error(response, 405, "method_not_allowed")
    allowed = [m.strip() for m in response.headers["allow"].split(",")]
    assert allowed == error["details"]["allowed_methods"]
    assert ("GET" if path == "/health" else "POST") in allowed


async def test_a_used_token_says_nothing_about_its_user(harness: Harness, device: Device) -> None:
    user = fresh_user("secretname")
    token = await harness.issue_token(user)
    first = enrollment_proof(
        generate_private_key(), origin=harness.settings.origin, token=token, device_name="a"
    )
    assert (await harness.client.post("/v1/device/register", json=first)).status_code == 201
    again = enrollment_proof(
        generate_private_key(), origin=harness.settings.origin, token=token, device_name="b"
    )
    response = await harness.client.post("/v1/device/register", json=again)
    error = assert_error(response, 401, "enrollment_token_invalid")
    assert error["details"] == {"reason": "already used"}
    assert user not in response.text
