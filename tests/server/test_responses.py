"""Answering a challenge: only a signature over exactly what was shown and decided counts, and
only once. Every scenario uses a fresh user (limits are per user)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import update

from pushauth_server.client import PendingChallenge
from pushauth_server.clock import now_ms
from pushauth_server.storage import tables
from tests.server.conftest import Device, Harness, assert_error, fresh_user


@dataclasses.dataclass
class Scene:
    device: Device
    created: dict[str, Any]
    pending: PendingChallenge

    @property
    def challenge_id(self) -> str:
        return str(self.created["challenge_id"])

    @property
    def code(self) -> str:
        return str(self.created["verification_code"])


async def scene(harness: Harness, **create: Any) -> Scene:
    device = await harness.enroll(fresh_user())
    created = await harness.create(device.user_id, **create)
    pending = await harness.pending_one(device, created["challenge_id"])
    return Scene(device=device, created=created, pending=pending)


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def body(
    device: Device,
    pending: PendingChallenge,
    *,
    decision: str = "approve",
    reason: str = "",
    code: str = "",
) -> dict[str, Any]:
    return device.identity.response_body(
        pending,
        decision=decision,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        verification_code=code,
    )


async def refused(
    harness: Harness, challenge_id: str, payload: dict[str, Any], status: int, code: str
) -> dict[str, Any]:
    before = await harness.snapshot()
    response = await harness.post_response(challenge_id, payload)
    error = assert_error(response, status, code)
    assert await harness.snapshot() == before
    return error


async def assert_still_answerable(harness: Harness, s: Scene) -> None:
    """The refused answer changed nothing: the genuine answer still settles the challenge."""
    assert (await harness.challenge_state(s.challenge_id))["status"] == "pending"
    response = await harness.post_response(s.challenge_id, body(s.device, s.pending, code=s.code))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"


# --- the genuine answers -------------------------------------------------------------------


async def test_approve_with_the_right_code(harness: Harness) -> None:
    s = await scene(harness)
    response = await harness.post_response(s.challenge_id, body(s.device, s.pending, code=s.code))
    assert response.status_code == 200, response.text
    assert response.json() == {"challenge_id": s.challenge_id, "status": "approved", "reason": None}
    state = await harness.challenge_state(s.challenge_id)
    assert state["status"] == "approved"
    assert state["credential_id"] == s.device.credential_id
    assert state["device_name"] == "phone"
    assert state["resolved_at"] is not None


@pytest.mark.parametrize(("reason", "expected"), [("", "user_denied"), ("not_me", "not_me")])
async def test_deny(harness: Harness, reason: str, expected: str) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, decision="deny", reason=reason)
    response = await harness.post_response(s.challenge_id, payload)
    assert response.status_code == 200, response.text
    state = await harness.challenge_state(s.challenge_id)
    assert (state["status"], state["reason"]) == ("denied", expected)


async def test_a_wrong_code_fails_the_challenge_at_once(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, code=wrong(s.code))
    response = await harness.post_response(s.challenge_id, payload)
    assert response.status_code == 200, response.text
    assert response.json()["reason"] == "wrong_code"
    # One attempt: the right code afterwards is too late.
    right = body(s.device, s.pending, code=s.code)
    await refused(harness, s.challenge_id, right, 409, "challenge_not_pending")
    assert (await harness.challenge_state(s.challenge_id))["status"] == "denied"


async def test_the_device_never_sees_the_code(harness: Harness) -> None:
    s = await scene(harness, context={"note": "hello"})
    path = "/v1/device/challenges"
    raw = await harness.client.get(path, headers=s.device.identity.proof_headers("GET", path))
    [item] = raw.json()
    assert "verification_code" not in item
    assert s.code not in raw.text
    assert item["code_digits"] == len(s.code)


# --- refused answers -----------------------------------------------------------------------


async def test_garbage_signature(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, code=s.code) | {"signature": "A" * 86}
    await refused(harness, s.challenge_id, payload, 401, "invalid_signature")
    await assert_still_answerable(harness, s)


async def test_signature_by_another_device_of_the_same_user(harness: Harness) -> None:
    s = await scene(harness)
    second = await harness.enroll(s.device.user_id, name="tablet")
    forged = body(second, s.pending, code=s.code)  # second's key ...
    forged["credential_id"] = s.device.credential_id  # ... presented as the first device
    await refused(harness, s.challenge_id, forged, 401, "invalid_signature")
    await assert_still_answerable(harness, s)


async def test_signed_deny_posted_as_approve(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, decision="deny", code=s.code) | {"decision": "approve"}
    await refused(harness, s.challenge_id, payload, 401, "invalid_signature")
    await assert_still_answerable(harness, s)


async def test_signed_not_me_posted_as_plain_deny(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, decision="deny", reason="not_me") | {"reason": ""}
    await refused(harness, s.challenge_id, payload, 401, "invalid_signature")
    await assert_still_answerable(harness, s)


async def test_altered_code(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, code=wrong(s.code)) | {"verification_code": s.code}
    await refused(harness, s.challenge_id, payload, 401, "invalid_signature")
    await assert_still_answerable(harness, s)


async def test_response_signed_for_another_challenge(harness: Harness) -> None:
    first = await scene(harness)
    other = await scene(harness)
    # A valid answer of first's device to first's challenge, posted to ... first's id but
    # signed over another challenge's nonce and context.
    alien = dataclasses.replace(
        first.pending, nonce=other.pending.nonce, challenge_id=other.challenge_id
    )
    payload = body(first.device, alien, code=first.code)
    await refused(harness, first.challenge_id, payload, 401, "invalid_signature")
    await assert_still_answerable(harness, first)


@pytest.mark.parametrize(
    "field", ["note", "initiator_ip", "created_at_ms", "expires_at_ms", "custom"]
)
async def test_response_signed_over_other_context(harness: Harness, field: str) -> None:
    s = await scene(harness, context={"note": "VPN", "initiator_ip": "192.0.2.1"})
    changed: dict[str, Any] = {
        "note": "Payroll",
        "initiator_ip": "198.51.100.9",
        "created_at_ms": s.pending.created_at_ms + 1,
        "expires_at_ms": s.pending.expires_at_ms + 60_000,
        "custom": {"k": "v"},
    }
    if field in s.pending.shown:
        shown = dataclasses.replace(s.pending, shown={**s.pending.shown, field: changed[field]})
    else:
        shown = dataclasses.replace(s.pending, **{field: changed[field]})
    await refused(
        harness, s.challenge_id, body(s.device, shown, code=s.code), 401, "invalid_signature"
    )
    await assert_still_answerable(harness, s)


async def test_revoked_device(harness: Harness) -> None:
    s = await scene(harness)
    assert (await harness.rp("POST", f"/v1/devices/{s.device.credential_id}/revoke")).is_success
    payload = body(s.device, s.pending, code=s.code)
    await refused(harness, s.challenge_id, payload, 403, "credential_revoked")
    assert (await harness.challenge_state(s.challenge_id))["status"] == "pending"


async def test_answer_to_another_users_challenge(harness: Harness) -> None:
    victim = await scene(harness)
    attacker = await harness.enroll(fresh_user("attacker"))
    payload = body(attacker, victim.pending, code=victim.code)  # attacker's own valid signature
    await refused(harness, victim.challenge_id, payload, 403, "wrong_account")
    await assert_still_answerable(harness, victim)


async def test_answer_to_an_expired_challenge(harness: Harness) -> None:
    s = await scene(harness)
    past = now_ms() - 1_000
    async with harness.db.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == s.challenge_id)
            .values(expires_at_ms=past)
        )
    late = dataclasses.replace(s.pending, expires_at_ms=past)  # signed over what is stored
    response = await harness.post_response(s.challenge_id, body(s.device, late, code=s.code))
    error = assert_error(response, 409, "challenge_not_pending")
    assert error["details"]["status"] == "expired"
    state = await harness.challenge_state(s.challenge_id)
    assert state["status"] == "expired"
    assert state["credential_id"] is None
    # And again, now that it is expired for good: nothing changes.
    await refused(
        harness, s.challenge_id, body(s.device, late, code=s.code), 409, "challenge_not_pending"
    )


async def test_replayed_response(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, decision="deny")
    assert (await harness.post_response(s.challenge_id, payload)).status_code == 200
    error = await refused(harness, s.challenge_id, payload, 409, "challenge_not_pending")
    assert error["details"]["status"] == "denied"


async def test_an_approval_cannot_carry_a_denial_reason(harness: Harness) -> None:
    s = await scene(harness)
    payload = body(s.device, s.pending, decision="approve", reason="not_me", code=s.code)
    await refused(harness, s.challenge_id, payload, 400, "invalid_request")
    await assert_still_answerable(harness, s)


async def test_answer_after_cancel(harness: Harness) -> None:
    s = await scene(harness)
    cancelled = await harness.rp("POST", f"/v1/challenges/{s.challenge_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    payload = body(s.device, s.pending, code=s.code)
    await refused(harness, s.challenge_id, payload, 409, "challenge_not_pending")
    before = await harness.snapshot()
    second = await harness.rp("POST", f"/v1/challenges/{s.challenge_id}/cancel")
    assert_error(second, 409, "challenge_not_pending")
    assert await harness.snapshot() == before


async def test_signature_string_cannot_be_respelled(harness: Harness) -> None:
    """A non-canonical spelling of a valid signature is not a second valid signature."""
    s = await scene(harness)
    payload = body(s.device, s.pending, code=s.code)
    signature = payload["signature"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    respelled = signature[:-1] + alphabet[last ^ 1]  # flips one of the 4 unused trailing bits
    await refused(
        harness, s.challenge_id, payload | {"signature": respelled}, 401, "invalid_signature"
    )
    await assert_still_answerable(harness, s)


# --- plain approval (number matching off) --------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"allow_plain_approval": True}])
async def test_plain_approval_where_the_server_allows_it(harness: Harness) -> None:
    s = await scene(harness, number_matching=False)
    assert s.created["number_matching"] is False
    assert s.pending.number_matching is False
    response = await harness.post_response(s.challenge_id, body(s.device, s.pending))
    assert response.json()["status"] == "approved"


async def test_plain_approval_is_refused_by_default(harness: Harness) -> None:
    device = await harness.enroll(fresh_user())
    before = await harness.snapshot()
    response = await harness.rp(
        "POST", "/v1/challenges", json={"user_id": device.user_id, "number_matching": False}
    )
    assert_error(response, 400, "number_matching_required")
    assert await harness.snapshot() == before
