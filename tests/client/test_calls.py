"""Each call's shape: method, path, who signs it, and a body the server's schema accepts."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from litestar.routes import HTTPRoute

from pushauth_server.client import DeviceIdentity, PendingChallenge, calls, enrollment_proof
from pushauth_server.domain.challenges.schemas import CreateChallengeIn, ResponseIn
from pushauth_server.domain.enrollment.schemas import EnrollmentTokenIn, RegisterIn
from pushauth_server.protocol import generate_private_key
from tests.server.conftest import Harness

ODD = "a/b c?#%"  # every character that needs escaping in a path segment
ODD_ESCAPED = "a%2Fb%20c%3F%23%25"

PENDING = PendingChallenge(
    challenge_id="ch_1",
    user_id="alice",
    action="signIn",
    note="",
    initiator_host="",
    initiator_ip="",
    initiator_user_agent="",
    custom={},
    nonce="bm9uY2U",
    number_matching=True,
    code_digits=6,
    created_at_ms=1,
    expires_at_ms=2,
)


def all_calls() -> list[calls.Call[Any]]:
    return [
        calls.health(),
        calls.issue_enrollment_token("alice"),
        calls.create_challenge(user_id="alice"),
        calls.get_challenge("ch_1"),
        calls.wait_challenge("ch_1", 5),
        calls.cancel_challenge("ch_1"),
        calls.list_devices("alice"),
        calls.revoke_device("cr_1"),
        calls.register(token="t", public_key="k", device_name="d", signature="s"),
        calls.pending_challenges(),
        calls.respond("ch_1", {}),
    ]


@pytest.mark.parametrize(
    ("call", "method", "path", "auth"),
    [
        (calls.health(), "GET", "/health", "none"),
        (calls.issue_enrollment_token("alice"), "POST", "/v1/enrollment-tokens", "api_key"),
        (calls.create_challenge(user_id="alice"), "POST", "/v1/challenges", "api_key"),
        (calls.get_challenge(ODD), "GET", f"/v1/challenges/{ODD_ESCAPED}", "api_key"),
        (calls.wait_challenge(ODD, 5), "GET", f"/v1/challenges/{ODD_ESCAPED}/wait", "api_key"),
        (calls.cancel_challenge(ODD), "POST", f"/v1/challenges/{ODD_ESCAPED}/cancel", "api_key"),
        (calls.list_devices(ODD), "GET", f"/v1/users/{ODD_ESCAPED}/devices", "api_key"),
        (calls.revoke_device(ODD), "POST", f"/v1/devices/{ODD_ESCAPED}/revoke", "api_key"),
        (
            calls.register(token="t", public_key="k", device_name="d", signature="s"),
            "POST",
            "/v1/device/register",
            "none",
        ),
        (calls.pending_challenges(), "GET", "/v1/device/challenges", "device"),
        (calls.respond(ODD, {}), "POST", f"/v1/device/challenges/{ODD_ESCAPED}/response", "none"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_call_shapes(call: calls.Call[Any], method: str, path: str, auth: str) -> None:
    assert (call.method, call.path, call.auth) == (method, path, auth)


def test_paths_for_streams() -> None:
    assert calls.challenge_events_path(ODD) == f"/v1/challenges/{ODD_ESCAPED}/events"
    assert calls.DEVICE_STREAM_PATH == "/v1/device/stream"


def test_wait_sends_its_timeout() -> None:
    assert calls.wait_challenge("ch_1", 12.5).params == {"timeout_seconds": 12.5}


def test_create_challenge_body_is_accepted_by_the_server_schema() -> None:
    call = calls.create_challenge(
        user_id="alice",
        action="sudo",
        note="n",
        initiator_host="h",
        initiator_ip="192.0.2.1",
        initiator_user_agent="ua",
        custom={"k": "v"},
        expires_in_seconds=30,
        number_matching=False,
    )
    decoded = msgspec.convert(call.json, CreateChallengeIn)
    assert decoded.user_id == "alice"
    assert decoded.action == "sudo"
    assert decoded.context.custom == {"k": "v"}
    assert decoded.expires_in_seconds == 30
    assert decoded.number_matching is False


def test_create_challenge_leaves_the_ttl_to_the_server() -> None:
    call = calls.create_challenge(user_id="alice")
    assert "expires_in_seconds" not in call.json
    assert msgspec.convert(call.json, CreateChallengeIn).expires_in_seconds is None


def test_enrollment_bodies_are_accepted_by_the_server_schema() -> None:
    msgspec.convert(calls.issue_enrollment_token("alice").json, EnrollmentTokenIn)
    proof = enrollment_proof(generate_private_key(), origin="o", token="t", device_name="d")
    decoded = msgspec.convert(calls.register(**proof).json, RegisterIn)
    assert decoded.signature == proof["signature"]


@pytest.mark.parametrize(
    ("decision", "reason", "code"),
    [("approve", "", "123456"), ("deny", "", ""), ("deny", "not_me", "")],
)
def test_response_body_is_accepted_by_the_server_schema(
    decision: str, reason: str, code: str
) -> None:
    identity = DeviceIdentity(origin="o", credential_id="cr_1", private_key=generate_private_key())
    body = identity.response_body(
        PENDING,
        decision=decision,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        verification_code=code,
    )
    decoded = msgspec.convert(calls.respond("ch_1", body).json, ResponseIn)
    assert (decoded.decision, decoded.reason, decoded.verification_code) == (decision, reason, code)


def test_proof_headers_are_fresh_each_time() -> None:
    identity = DeviceIdentity(origin="o", credential_id="cr_1", private_key=generate_private_key())
    first = identity.proof_headers("GET", "/v1/device/challenges")
    second = identity.proof_headers("GET", "/v1/device/challenges")
    assert first["X-PushAuth-Nonce"] != second["X-PushAuth-Nonce"]
    assert first["X-PushAuth-Credential"] == "cr_1"
    assert set(first) == {
        "X-PushAuth-Credential",
        "X-PushAuth-Timestamp",
        "X-PushAuth-Nonce",
        "X-PushAuth-Signature",
    }


async def test_every_call_is_a_route_the_server_serves(harness: Harness) -> None:
    served: list[tuple[str, re.Pattern[str]]] = []
    for route in harness.app.routes:
        if isinstance(route, HTTPRoute):
            pattern = re.sub(r"\{\w+:\w+\}", "[^/]+", route.path)
            methods = {m for handler in route.route_handlers for m in handler.http_methods}
            served.extend((method, re.compile(pattern + "$")) for method in methods)
    for call in all_calls():
        assert any(
            method == call.method and pattern.match(call.path) for method, pattern in served
        ), f"{call.method} {call.path} is not served"
