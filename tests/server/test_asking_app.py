"""The asking application in the signed context (issue 11 item 3), and enrollment through an
application (item 5), over HTTP: the server names the application from its own records, a relying
party can neither send nor change it, and the device signs it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from pushauth_server import errors
from pushauth_server.client import enrollment_proof
from pushauth_server.clock import now_ms, sha256_hex
from pushauth_server.domain.apps.models import OPERATOR, AppIdentity, Scope
from pushauth_server.domain.challenges.schemas import ContextIn, CreateChallengeIn
from pushauth_server.protocol import context_hash, generate_private_key, sign
from pushauth_server.storage import tables
from tests.server.conftest import Device, Harness, assert_error, fresh_user
from tests.server.test_storage import (  # noqa: F401 - fixtures
    Stack,
    database,
    enroll,
    respond,
    stack,
)


async def _audit(harness: Harness, user_id: str) -> list[dict[str, Any]]:
    response = await harness.rp("GET", "/v1/audit", params={"user_id": user_id})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["events"]
    return rows


async def test_the_context_names_the_calling_application(harness: Harness, device: Device) -> None:
    created = await harness.create(device.user_id, context={"note": "VPN login"})
    assert created["context"]["application"] == OPERATOR.display_name == "Operator"
    pending = await harness.pending_one(device, created["challenge_id"])
    assert pending.shown["application"] == "Operator"
    assert pending.context().application == "Operator"
    body = device.identity.response_body(
        pending, decision="approve", verification_code=created["verification_code"]
    )
    answered = await harness.post_response(created["challenge_id"], body)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "approved"


async def test_a_relying_party_cannot_send_the_application(
    harness: Harness, device: Device
) -> None:
    before = await harness.snapshot()
    for context in ({"application": "Payroll"}, {"application": ""}):
        response = await harness.rp(
            "POST", "/v1/challenges", json={"user_id": device.user_id, "context": context}
        )
        error = assert_error(response, 400, "invalid_request")
        assert "application" in error["message"]
    assert await harness.snapshot() == before  # nothing created, nothing pushed
    # Nor under a custom key that would be shown like the device's own rows (the application,
    # the user, a context field): refused, whatever its case, spaces or punctuation.
    for key, row in (
        ("application", "Application"),
        ("User", "User"),
        ("user_id", "User"),
        ("SERVER", "Server"),
        ("ip-address", "IP address"),
        ("Browser", "Browser"),
        ("requested", "Requested"),
    ):
        response = await harness.rp(
            "POST",
            "/v1/challenges",
            json={"user_id": device.user_id, "context": {"custom": {key: "Payroll"}}},
        )
        error = assert_error(response, 400, "invalid_request")
        assert f"context.custom key {key!r}" in error["message"]
        assert repr(row) in error["message"]
    assert await harness.snapshot() == before
    # Any other name is the relying party's own, shown under the server's application name.
    created = await harness.create(device.user_id, context={"custom": {"payroll run": "May"}})
    assert created["context"]["application"] == "Operator"
    pending = await harness.pending_one(device, created["challenge_id"])
    signed = pending.context()
    assert signed.application == "Operator"
    assert ("payroll run", "May") in signed.custom


async def test_an_answer_over_another_application_name_does_not_verify(
    harness: Harness, device: Device
) -> None:
    """A device shown a spoofed name signs a hash the server does not recognise."""
    created = await harness.create(device.user_id)
    pending = await harness.pending_one(device, created["challenge_id"])
    spoofed = dataclasses.replace(pending, shown={**pending.shown, "application": "Payroll"})
    body = device.identity.response_body(
        spoofed, decision="approve", verification_code=created["verification_code"]
    )
    response = await harness.post_response(created["challenge_id"], body)
    assert_error(response, 401, "invalid_signature")
    assert (await harness.challenge_state(created["challenge_id"]))["status"] == "pending"


async def test_every_audit_row_of_a_challenge_names_the_application(
    harness: Harness, device: Device
) -> None:
    created = await harness.create(device.user_id)
    cancelled = await harness.rp("POST", f"/v1/challenges/{created['challenge_id']}/cancel")
    assert cancelled.status_code in (200, 201), cancelled.text
    rows = [
        row
        for row in await _audit(harness, device.user_id)
        if row["challenge_id"] == created["challenge_id"]
    ]
    assert [row["event"] for row in rows] == ["challenge.created", "challenge.cancelled"]
    assert all(row["context"]["application"] == "Operator" for row in rows)
    assert rows[0]["detail"] == {"app": "operator", "app_id": "app_operator"}


# --- enrollment through an application ----------------------------------------------------------


async def _register(harness: Harness, token: str) -> Any:
    body = enrollment_proof(
        generate_private_key(), origin=harness.settings.origin, token=token, device_name="phone"
    )
    return await harness.client.post("/v1/device/register", json=body)


async def test_registration_names_the_server_and_the_application(harness: Harness) -> None:
    user = fresh_user()
    token = await harness.issue_token(user)
    response = await _register(harness, token)
    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["origin"] == harness.settings.origin
    assert (registered["app_name"], registered["app_display_name"]) == ("operator", "Operator")
    async with harness.db.read() as connection:
        token_row = (await connection.execute(select(tables.enrollment_tokens))).one()
        credential = (await connection.execute(select(tables.credentials))).one()
    assert token_row.app_id == credential.app_id == OPERATOR.app_id
    rows = {row["event"]: row for row in await _audit(harness, user)}
    assert rows["enrollment.token_issued"]["detail"]["app"] == "operator"
    enrolled = rows["device.enrolled"]["detail"]
    assert (enrolled["app"], enrolled["app_id"]) == ("operator", "app_operator")


async def _insert_token(harness: Harness, user: str, app_id: str | None) -> str:
    token = "pet_" + "t" * 43
    async with harness.db.write() as connection:
        await connection.execute(
            insert(tables.enrollment_tokens).values(
                token_hash=sha256_hex(token),
                user_id=user,
                created_at_ms=now_ms(),
                expires_at_ms=now_ms() + 600_000,
                app_id=app_id,
            )
        )
    return token


async def test_a_token_from_before_applications_enrolls_without_one(harness: Harness) -> None:
    token = await _insert_token(harness, fresh_user(), None)
    response = await _register(harness, token)
    assert response.status_code == 201, response.text
    assert response.json()["app_name"] is None
    assert response.json()["app_display_name"] is None


async def test_a_revoked_applications_tokens_stop_with_it(harness: Harness) -> None:
    """A token issued by an application revoked since is refused, and not spent."""
    async with harness.db.write() as connection:
        await connection.execute(
            insert(tables.applications).values(
                app_id="app_gate",
                name="gate",
                display_name="Deploy gate",
                scopes="enrollment",
                created_at_ms=now_ms(),
            )
        )
    user = fresh_user()
    token = await _insert_token(harness, user, "app_gate")
    async with harness.db.write() as connection:
        await connection.execute(
            update(tables.applications)
            .where(tables.applications.c.app_id == "app_gate")
            .values(revoked_at_ms=now_ms())
        )
    before = await harness.snapshot()
    error = assert_error(await _register(harness, token), 401, "enrollment_token_invalid")
    assert error["details"]["reason"] == "application revoked"
    assert user not in error["message"]
    assert await harness.snapshot() == before


# --- older protocol versions: refused by name ---------------------------------------------------


async def test_a_version_2_enrollment_proof_is_refused_by_name_and_spends_nothing(
    harness: Harness,
) -> None:
    from pushauth_server.protocol.legacy import EnrollmentProofV2

    token = await harness.issue_token(fresh_user())
    key = generate_private_key()
    body = enrollment_proof(key, origin=harness.settings.origin, token=token, device_name="old")
    proof = EnrollmentProofV2(
        origin=harness.settings.origin,
        token=token,
        public_key=body["public_key"],
        device_name="old",
    )
    before = await harness.snapshot()
    response = await harness.client.post(
        "/v1/device/register", json={**body, "signature": sign(key, proof)}
    )
    error = assert_error(response, 400, "unsupported_protocol_version")
    assert error["details"] == {"version": 2, "supported": [3]}
    assert "Update the device software" in error["message"]
    assert await harness.snapshot() == before
    assert (await _register(harness, token)).status_code == 201  # the token still works


async def test_a_version_2_request_proof_is_refused_by_name(
    harness: Harness, device: Device
) -> None:
    from pushauth_server.protocol import body_sha256, new_request_nonce
    from pushauth_server.protocol.legacy import RequestProofV2

    path = "/v1/device/challenges"
    timestamp, nonce = now_ms(), new_request_nonce()
    proof = RequestProofV2(
        origin=harness.settings.origin,
        method="GET",
        target=path,
        body_sha256=body_sha256(b""),
        timestamp_ms=timestamp,
        nonce=nonce,
        credential_id=device.credential_id,
    )
    headers = {
        "X-PushAuth-Credential": device.credential_id,
        "X-PushAuth-Timestamp": str(timestamp),
        "X-PushAuth-Nonce": nonce,
        "X-PushAuth-Signature": sign(device.identity.private_key, proof),
    }
    error = assert_error(
        await harness.client.get(path, headers=headers), 400, "unsupported_protocol_version"
    )
    assert error["details"] == {"version": 2, "supported": [3]}


async def test_a_version_2_answer_is_refused_by_name(harness: Harness, device: Device) -> None:
    """A device that signs the context without the application (version 2) is told to update,
    and its answer changes nothing."""
    from pushauth_server.protocol.legacy import (
        ChallengeResponseV2,
        as_older,
        legacy_context_hash,
    )

    created = await harness.create(device.user_id)
    pending = await harness.pending_one(device, created["challenge_id"])
    current = device.identity.response_message(
        pending, decision="approve", verification_code=created["verification_code"]
    )
    v2 = as_older(
        ChallengeResponseV2,
        current,
        context_hash=legacy_context_hash(pending.context(), version=2),
    )
    body = {
        "credential_id": device.credential_id,
        "decision": "approve",
        "reason": "",
        "verification_code": created["verification_code"],
        "signature": sign(device.identity.private_key, v2),
    }
    response = await harness.post_response(created["challenge_id"], body)
    error = assert_error(response, 400, "unsupported_protocol_version")
    assert error["details"] == {"version": 2, "supported": [3]}
    assert (await harness.challenge_state(created["challenge_id"]))["status"] == "pending"
    # The version 3 answer (the same decision, the application inside the hash) is accepted.
    assert current.context_hash == context_hash(pending.context()) != v2.context_hash
    answered = await harness.post_response(
        created["challenge_id"],
        {**body, "signature": sign(device.identity.private_key, current)},
    )
    assert answered.status_code == 200, answered.text


async def test_the_same_request_from_another_application_signs_another_hash(stack: Stack) -> None:
    """The application comes from the calling key's record: the same body sent through another
    application is another context, with another hash, and the device's answer to one does not
    verify for the other."""
    gate = AppIdentity(
        app_id="app_gate", name="gate", display_name="Deploy gate", scopes=frozenset(Scope)
    )
    user = fresh_user()
    device = await enroll(stack.services, user)
    request = CreateChallengeIn(user_id=user, context=ContextIn(note="deploy prod"))
    first, _ = await stack.services.challenges.create(request, OPERATOR)
    await stack.services.challenges.cancel(first.challenge_id)
    second, _ = await stack.services.challenges.create(request, gate)
    assert (first.context.application, second.context.application) == ("Operator", "Deploy gate")
    assert second.app_id == "app_gate"
    as_first = dataclasses.replace(second.context, application="Operator")
    assert context_hash(second.context) != context_hash(as_first)
    assert second.context_hash == context_hash(second.context)
    # An answer signed over the context under the other name is refused.
    fooled = dataclasses.replace(second, context=as_first, context_hash=context_hash(as_first))
    with pytest.raises(errors.InvalidSignature):
        await respond(stack.services, device, fooled)
    assert (await respond(stack.services, device, second)).status.value == "approved"
