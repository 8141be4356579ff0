"""The OpenAPI document describes the real API (issue 9; openapi.py): the real error body, every
error status each route can answer, SSE media types and the four request-proof headers."""

from __future__ import annotations

from typing import Any

import pytest

from pushauth_server.openapi import PROOF_HEADERS, ROUTE_ERRORS, STREAMS
from tests.server.conftest import Harness, assert_error
from tests.server.test_openapi import _served


@pytest.fixture
async def schema(harness: Harness) -> dict[str, Any]:
    response = await harness.client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_route_has_its_error_statuses_in_the_table(harness: Harness) -> None:
    served = {(method, path) for path, method in _served(harness)}
    assert served == set(ROUTE_ERRORS)


async def test_every_error_response_is_the_real_error_body(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]
    for (method, path), statuses in ROUTE_ERRORS.items():
        responses = schema["paths"][path][method]["responses"]
        errors = sorted(int(s) for s in responses if s[0] in "45")
        assert errors == sorted(set(statuses)), (method, path)
        for status in errors:
            content = responses[str(status)]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}
        for status in (429, 503):
            if status in errors:
                assert "Retry-After" in responses[str(status)]["headers"]


async def test_streams_are_documented_as_event_streams(schema: dict[str, Any]) -> None:
    for method, path in STREAMS:
        content = schema["paths"][path][method]["responses"]["200"]["content"]
        assert list(content) == ["text/event-stream"], path


async def test_device_routes_name_all_four_proof_headers(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    headers = {schemes[name]["name"] for name in PROOF_HEADERS}
    assert headers == {
        "X-PushAuth-Credential",
        "X-PushAuth-Timestamp",
        "X-PushAuth-Nonce",
        "X-PushAuth-Signature",
    }
    assert "DeviceProof" not in schemes
    stream = schema["paths"]["/v1/device/stream"]["get"]
    assert stream["security"] == [{name: [] for name in PROOF_HEADERS}]


async def test_a_400_matches_the_documented_error_body(harness: Harness) -> None:
    response = await harness.rp("POST", "/v1/enrollment-tokens", json={"user_id": ""})
    error = assert_error(response, 400, "invalid_request")
    assert set(error) == {"code", "message", "details"}


async def test_request_bodies_forbid_unknown_fields_in_the_document(
    schema: dict[str, Any],
) -> None:
    for name in ("CreateChallengeIn", "ContextIn", "EnrollmentTokenIn", "RegisterIn", "ResponseIn"):
        assert schema["components"]["schemas"][name]["additionalProperties"] is False
