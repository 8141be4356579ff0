"""Enrollment: single-use, expiring tokens redeemed with a proof of key possession."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from pushauth_server.client import enrollment_proof
from pushauth_server.clock import now_ms, sha256_hex
from pushauth_server.domain.devices import store as device_store
from pushauth_server.protocol import (
    EnrollmentProof,
    b64url_encode,
    generate_private_key,
    public_key_b64,
    sign,
)
from pushauth_server.storage import tables
from tests.server.conftest import Harness, assert_error, fresh_user

REGISTER = "/v1/device/register"


def proof(harness: Harness, token: str, **changes: Any) -> dict[str, str]:
    key = generate_private_key()
    return (
        enrollment_proof(
            key,
            origin=changes.pop("origin", harness.settings.origin),
            token=token,
            device_name=changes.pop("device_name", "phone"),
        )
        | changes
    )


async def refused_registration(
    harness: Harness, body: dict[str, str], status: int, code: str
) -> dict[str, Any]:
    before = await harness.snapshot()
    error = assert_error(await harness.client.post(REGISTER, json=body), status, code)
    assert await harness.snapshot() == before
    return error


async def test_register_creates_an_active_device(harness: Harness) -> None:
    user = fresh_user()
    token = await harness.issue_token(user)
    response = await harness.client.post(REGISTER, json=proof(harness, token, device_name="p1"))
    assert response.status_code == 201, response.text
    registration = response.json()
    assert registration["user_id"] == user
    assert registration["origin"] == harness.settings.origin
    devices = (await harness.rp("GET", f"/v1/users/{user}/devices")).json()
    assert [(d["credential_id"], d["state"], d["name"]) for d in devices] == [
        (registration["credential_id"], "active", "p1")
    ]


async def test_only_the_token_hash_is_stored(harness: Harness) -> None:
    token = await harness.issue_token(fresh_user())
    snapshot = repr(await harness.snapshot())
    assert token not in snapshot
    assert sha256_hex(token) in snapshot


async def test_proof_signed_by_another_key_is_refused(harness: Harness) -> None:
    token = await harness.issue_token(fresh_user())
    body = proof(harness, token)
    other = generate_private_key()
    body["signature"] = sign(
        other,
        EnrollmentProof(
            origin=harness.settings.origin,
            token=token,
            public_key=body["public_key"],
            device_name="phone",
        ),
    )
    await refused_registration(harness, body, 401, "invalid_signature")
    # The refused attempt did not spend the token.
    assert (await harness.client.post(REGISTER, json=proof(harness, token))).status_code == 201


@pytest.mark.parametrize(
    "change",
    ["origin", "token", "device_name"],
)
async def test_proof_over_other_values_is_refused(harness: Harness, change: str) -> None:
    token = await harness.issue_token(fresh_user())
    other_token = await harness.issue_token(fresh_user())
    if change == "origin":
        body = proof(harness, token, origin="https://evil.example")
    elif change == "token":
        body = proof(harness, other_token) | {"token": token}
    else:
        body = proof(harness, token) | {"device_name": "renamed"}
    await refused_registration(harness, body, 401, "invalid_signature")


@pytest.mark.parametrize(
    "public_key",
    [
        "not-a-key!",
        b64url_encode(b"\x01" * 31),
        b64url_encode(b"\x01" * 33),
        b64url_encode(b"\x01" * 32) + "=",
    ],
)
async def test_invalid_public_key_is_refused(harness: Harness, public_key: str) -> None:
    token = await harness.issue_token(fresh_user())
    body = proof(harness, token) | {"public_key": public_key}
    error = await refused_registration(harness, body, 400, "invalid_request")
    assert "public_key" in error["message"]


async def test_unknown_token_is_refused(harness: Harness) -> None:
    body = proof(harness, "pet_never-issued")
    await refused_registration(harness, body, 401, "enrollment_token_invalid")


async def test_a_token_works_once(harness: Harness) -> None:
    user = fresh_user()
    token = await harness.issue_token(user)
    assert (await harness.client.post(REGISTER, json=proof(harness, token))).status_code == 201
    error = await refused_registration(
        harness, proof(harness, token), 401, "enrollment_token_invalid"
    )
    assert error["details"]["reason"] == "already used"
    devices = (await harness.rp("GET", f"/v1/users/{user}/devices")).json()
    assert len(devices) == 1


async def test_an_expired_token_is_refused(harness: Harness) -> None:
    user = fresh_user()
    token = await harness.issue_token(user)
    async with harness.db.write() as connection:
        await connection.execute(
            update(tables.enrollment_tokens)
            .where(tables.enrollment_tokens.c.token_hash == sha256_hex(token))
            .values(expires_at_ms=now_ms() - 1)
        )
    error = await refused_registration(
        harness, proof(harness, token), 401, "enrollment_token_invalid"
    )
    assert error["details"]["reason"] == "expired"
    assert (await harness.rp("GET", f"/v1/users/{user}/devices")).json() == []


async def test_concurrent_registrations_with_one_token_enroll_one_device(
    harness: Harness,
) -> None:
    user = fresh_user()
    token = await harness.issue_token(user)
    responses = await asyncio.gather(
        *(harness.client.post(REGISTER, json=proof(harness, token)) for _ in range(5))
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 401, 401, 401, 401]
    devices = (await harness.rp("GET", f"/v1/users/{user}/devices")).json()
    assert len(devices) == 1


async def test_tokens_are_distinct_and_unguessable(harness: Harness) -> None:
    user = fresh_user()
    tokens = {await harness.issue_token(user) for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(token) >= 40 for token in tokens)


async def test_revoke_twice_is_a_conflict(harness: Harness) -> None:
    device = await harness.enroll()
    path = f"/v1/devices/{device.credential_id}/revoke"
    first = await harness.rp("POST", path)
    assert first.status_code == 200
    assert first.json()["state"] == "revoked"
    before = await harness.snapshot()
    assert_error(await harness.rp("POST", path), 409, "credential_already_revoked")
    assert await harness.snapshot() == before


async def test_public_key_of_the_registration_is_the_one_stored(harness: Harness) -> None:
    token = await harness.issue_token(fresh_user())
    key = generate_private_key()
    body = enrollment_proof(key, origin=harness.settings.origin, token=token, device_name="p")
    registered = (await harness.client.post(REGISTER, json=body)).json()
    devices = (await harness.rp("GET", f"/v1/users/{registered['user_id']}/devices")).json()
    assert [d["credential_id"] for d in devices] == [registered["credential_id"]]
    async with harness.db.read() as connection:
        stored = await device_store.get(connection, registered["credential_id"])
    assert stored is not None
    assert stored.public_key == public_key_b64(key)
