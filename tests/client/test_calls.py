"""Each call's shape: method, path, who signs it, and a body the server's schema accepts."""

from __future__ import annotations

import inspect
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
    shown={"note": "", "initiator_host": "", "initiator_ip": "", "initiator_user_agent": ""},
    custom={},
    nonce="bm9uY2U",
    number_matching=True,
    code_digits=6,
    created_at_ms=1,
    expires_at_ms=2,
)


def examples() -> dict[str, calls.Call[Any]]:
    """One example of every call the client makes, by the name of the function that builds it."""
    return {
        "health": calls.health(),
        "issue_enrollment_token": calls.issue_enrollment_token("alice"),
        "create_challenge": calls.create_challenge(user_id="alice"),
        "get_challenge": calls.get_challenge("ch_1"),
        "wait_challenge": calls.wait_challenge("ch_1", 5),
        "cancel_challenge": calls.cancel_challenge("ch_1"),
        "list_devices": calls.list_devices("alice"),
        "list_all_devices": calls.list_all_devices(),
        "get_device": calls.get_device("cr_1"),
        "list_users": calls.list_users(),
        "revoke_device": calls.revoke_device("cr_1"),
        "register": calls.register(token="t", public_key="k", device_name="d", signature="s"),
        "pending_challenges": calls.pending_challenges(),
        "revoke_self": calls.revoke_self(),
        "respond": calls.respond("ch_1", {}),
        "user_state": calls.user_state("alice"),
        "unlock_user": calls.unlock_user("alice"),
        "audit_events": calls.audit_events(user_id="alice", since_ms=1, after_id=2),
        "verify_audit": calls.verify_audit(since_head="1:" + "0" * 64),
        "audit_head": calls.audit_head(),
        "add_webhook": calls.add_webhook(url="https://rp.example/h", app="operator"),
        "list_webhooks": calls.list_webhooks("operator"),
        "remove_webhook": calls.remove_webhook("we_1"),
        "send_test_webhook": calls.send_test_webhook("we_1"),
        "rotate_webhook_secret": calls.rotate_webhook_secret("we_1"),
        "webhook_deliveries": calls.webhook_deliveries(status="failed"),
        "retry_webhook_delivery": calls.retry_webhook_delivery("msg_1.we_1"),
        "list_apps": calls.list_apps(),
        "get_app": calls.get_app("web"),
        "create_app": calls.create_app(
            name="web", scopes=["challenges"], display_name="Web", users=["deploy-*"]
        ),
        "update_app": calls.update_app("web", display_name="Web shop"),
        "rotate_app": calls.rotate_app("web", grace_seconds=60),
        "revoke_app": calls.revoke_app("web"),
    }


STREAM_PATHS = {
    "challenge_events_path": calls.challenge_events_path("ch_1"),
    "DEVICE_STREAM_PATH": calls.DEVICE_STREAM_PATH,
    "AUDIT_STREAM_PATH": calls.AUDIT_STREAM_PATH,
}


def call_factories() -> set[str]:
    """Every public function of ``calls`` that builds a :class:`Call`."""
    return {
        name
        for name, value in vars(calls).items()
        if inspect.isfunction(value)
        and value.__module__ == calls.__name__
        and not name.startswith("_")
        and str(inspect.signature(value).return_annotation).startswith("Call[")
    }


def test_every_call_has_an_example() -> None:
    # A new call without an example here would escape the route and credential checks below.
    assert set(examples()) == call_factories()


@pytest.mark.parametrize(
    "build",
    [
        calls.get_challenge,
        lambda v: calls.wait_challenge(v, 5),
        calls.cancel_challenge,
        calls.list_devices,
        calls.get_device,
        calls.revoke_device,
        lambda v: calls.respond(v, {}),
        calls.user_state,
        calls.unlock_user,
        calls.challenge_events_path,
        calls.remove_webhook,
        calls.send_test_webhook,
        calls.rotate_webhook_secret,
        calls.retry_webhook_delivery,
        calls.get_app,
        calls.revoke_app,
        calls.rotate_app,
        lambda v: calls.update_app(v, display_name="x"),
    ],
)
def test_ids_in_paths_are_escaped(build: Any) -> None:
    # An id with "/" or "?" must stay one path segment, never reach another route.
    built = build(ODD)
    path = built if isinstance(built, str) else built.path
    assert ODD_ESCAPED in path
    assert ODD not in path


def test_wait_sends_its_timeout() -> None:
    assert calls.wait_challenge("ch_1", 12.5).params == {"timeout_seconds": 12.5}


def test_create_challenge_body_is_accepted_by_the_server_schema() -> None:
    call = calls.create_challenge(
        user_id="alice",
        action="sudo",
        context={
            "note": "n",
            "initiator_host": "h",
            "initiator_ip": "192.0.2.1",
            "initiator_user_agent": "ua",
        },
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


def _served(harness: Harness) -> list[tuple[str, re.Pattern[str]]]:
    served: list[tuple[str, re.Pattern[str]]] = []
    for route in harness.app.routes:
        if isinstance(route, HTTPRoute):
            pattern = re.sub(r"\{\w+:\w+\}", "[^/]+", route.path)
            methods = {m for handler in route.route_handlers for m in handler.http_methods}
            served.extend((method, re.compile(pattern + "$")) for method in methods)
    return served


async def test_every_call_is_a_route_the_server_serves(harness: Harness) -> None:
    served = _served(harness)
    wanted = [(c.method, c.path) for c in examples().values()]
    wanted += [("GET", path) for path in STREAM_PATHS.values()]
    for method, path in wanted:
        assert any(
            method == served_method and pattern.match(path) for served_method, pattern in served
        ), f"{method} {path} is not served"


async def test_calls_that_need_credentials_are_refused_without_them(harness: Harness) -> None:
    # Each call's `auth` must be what the server demands: sent bare, an api_key or device call
    # is refused with 401, and a call marked "none" is not.
    for name, call in examples().items():
        response = await harness.client.request(
            call.method, call.path, json=call.json, params=dict(call.params) or None
        )
        if call.auth == "none":
            assert response.status_code != 401, (name, response.text)
        else:
            assert response.status_code == 401, (name, response.status_code, response.text)
