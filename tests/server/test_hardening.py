"""Fixes from review: input no database can store, lock-order and deadlock handling, revocation
racing an answer, answers racing the expiry, and the rate-limit delay's arithmetic."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy.exc import DataError, DBAPIError

from pushauth_server import errors
from pushauth_server.domain.challenges import store as challenge_store
from pushauth_server.domain.limits.policy import LimitState, check_create
from pushauth_server.http_errors import translate
from pushauth_server.protocol import ChallengeStatus
from tests.server.conftest import Harness, assert_error, fresh_user
from tests.server.test_storage import (  # noqa: F401 - database and stack are fixtures
    Stack,
    create,
    database,
    enroll,
    respond,
    stack,
)
from tests.support.settings import TestSettings


async def test_control_characters_in_ids_and_names_are_refused(harness: Harness) -> None:
    answer = await harness.client.post(
        "/v1/device/challenges/ch_x/response",
        json={"credential_id": "\u0000", "decision": "deny", "signature": "a"},
    )
    assert_error(answer, 400, "invalid_request")
    register = await harness.client.post(
        "/v1/device/register",
        json={
            "token": "pet_x",
            "public_key": "a",
            "device_name": "bad\u0000name",
            "signature": "a",
        },
    )
    assert_error(register, 400, "invalid_request")
    assert_error(await harness.rp("GET", "/v1/challenges/ch%00x"), 400, "invalid_request")


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_database_errors_that_are_not_bugs_are_not_500s() -> None:
    data = translate(DataError("INSERT", {}, Exception("invalid byte sequence")))
    assert (data.status_code, data.code) == (400, "invalid_request")
    deadlock = translate(DBAPIError("UPDATE", {}, _PgError("40P01")))
    assert (deadlock.status_code, deadlock.code) == (503, "server_busy")
    other = translate(DBAPIError("UPDATE", {}, _PgError("XX000")))
    assert other.status_code == 500


def test_the_rate_limit_delay_never_overflows() -> None:
    settings = TestSettings(api_key="k")
    state = replace(LimitState(user_id="a"), rate_strikes=5000)
    refusal = check_create(
        state, recent=99, pending=0, replace_pending=False, now_ms=0, settings=settings
    )
    assert refusal is not None
    assert refusal.error.details["retry_after_seconds"] == settings.rate_delay_max_seconds


async def test_an_answer_in_flight_when_the_device_is_revoked_is_refused(stack: Stack) -> None:
    services = stack.services
    user = fresh_user()
    device = await enroll(services, user)
    challenge = await create(services, user)
    await services.devices.revoke(device.credential.credential_id)
    # ``device.credential`` is the state read before the revocation, as a request in flight has.
    with pytest.raises(errors.CredentialRevoked):
        await respond(services, device, challenge)
    assert (await services.challenges.get(challenge.challenge_id)).status == "pending"


async def test_an_answer_recorded_after_the_expiry_does_not_win(stack: Stack) -> None:
    user = fresh_user()
    await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    async with stack.database.write() as connection:
        won = await challenge_store.resolve(
            connection,
            challenge.challenge_id,
            ChallengeStatus.APPROVED,
            unexpired_at=challenge.expires_at_ms,
        )
    assert won is None


async def test_answering_while_a_replacement_is_created_never_errors(stack: Stack) -> None:
    """On PostgreSQL the two used to take their row locks in opposite orders and deadlock."""
    services = stack.services
    for _ in range(8):
        user = fresh_user()
        device = await enroll(services, user)
        challenge = await create(services, user)
        results = await asyncio.gather(
            respond(services, device, challenge),
            create(services, user, replace_pending=True),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, errors.ChallengeNotPending), repr(result)


async def test_answering_another_users_challenge_is_audited(stack: Stack) -> None:
    from pushauth_server.domain.audit import store as audit_store

    services = stack.services
    alice, mallory = fresh_user(), fresh_user()
    await enroll(services, alice)
    intruder = await enroll(services, mallory)
    challenge = await create(services, alice)
    with pytest.raises(errors.WrongAccount):
        await respond(services, intruder, challenge)
    async with stack.database.read() as connection:
        found = await audit_store.events(connection, user_id=alice)
    [event] = [e for e in found if e.event.value == "security.wrong_account"]
    assert event.credential_id == intruder.credential.credential_id
