"""Storage and the services on it, on SQLite and on PostgreSQL: every transition out of
``pending`` is a compare-and-set, tokens are single use, revocation happens once.

PostgreSQL tests run in a fresh schema each (``search_path``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from pushauth_server import errors, events
from pushauth_server.client import enrollment_proof
from pushauth_server.clock import now_ms
from pushauth_server.domain.apps.models import OPERATOR
from pushauth_server.domain.challenges import store
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.schemas import ChallengeOut, CreateChallengeIn
from pushauth_server.domain.devices import store as device_store
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.enrollment.service import Enrollment
from pushauth_server.protocol import (
    ChallengeResponse,
    ChallengeStatus,
    context_hash,
    generate_private_key,
    public_key_b64,
    sign,
)
from pushauth_server.realtime import MemoryBackend, Notifier
from pushauth_server.services import Services
from pushauth_server.storage import Database, tables
from tests.conftest import POSTGRES_URL
from tests.server.conftest import API_KEY, fresh_user
from tests.support.settings import TestSettings

ORIGIN = "https://auth.example.test"


class RecordingNotifier(Notifier):
    """The real notifier (memory backend), which also remembers what it published."""

    def __init__(self, backend: MemoryBackend) -> None:
        super().__init__(backend)
        self.published: list[dict[str, Any]] = []

    async def publish(self, event: events.UserEvent | ChallengeOut, *channels: str) -> None:
        self.published.append(msgspec.to_builtins(event))
        await super().publish(event, *channels)

    def resolutions(self, challenge_id: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.published
            if e.get("type") == "resolved" and e.get("challenge_id") == challenge_id
        ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        await db.create_schema()
        try:
            yield db
        finally:
            await db.dispose()
        return
    schema = "pushauth_test_" + secrets.token_hex(6)
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OSError as exc:
        await admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await db.create_schema()
        yield db
    finally:
        await db.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@dataclasses.dataclass
class Stack:
    services: Services
    notifier: RecordingNotifier
    database: Database


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    config = TestSettings(api_key=API_KEY, database_url=database.url, public_url=ORIGIN)
    notifier = RecordingNotifier(MemoryBackend())
    await notifier.start()
    try:
        yield Stack(Services.build(config, database, notifier), notifier, database)
    finally:
        await notifier.stop()


@dataclasses.dataclass
class Enrolled:
    credential: Credential
    key: Any


async def enroll(services: Services, user_id: str) -> Enrolled:
    token, _ = await services.enrollment.issue_token(user_id, OPERATOR)
    key = generate_private_key()
    body = enrollment_proof(key, origin=ORIGIN, token=token, device_name="phone")
    enrollment = await services.enrollment.register(**body)
    return Enrolled(credential=enrollment.credential, key=key)


async def create(services: Services, user_id: str, **fields: Any) -> Challenge:
    challenge, devices = await services.challenges.create(
        CreateChallengeIn(user_id=user_id, **fields), OPERATOR
    )
    assert devices >= 1
    return challenge


def signature(device: Enrolled, challenge: Challenge, decision: str, reason: str, code: str) -> str:
    message = ChallengeResponse(
        origin=ORIGIN,
        challenge_id=challenge.challenge_id,
        nonce=challenge.nonce,
        decision=decision,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        verification_code=code,
        credential_id=device.credential.credential_id,
        context_hash=context_hash(challenge.context),
        expires_at_ms=challenge.expires_at_ms,
    )
    return sign(device.key, message)


async def respond(
    services: Services,
    device: Enrolled,
    challenge: Challenge,
    decision: str = "approve",
    reason: str = "",
    code: str | None = None,
) -> Challenge:
    code = challenge.verification_code if code is None else code
    return await services.challenges.respond(
        challenge_id=challenge.challenge_id,
        credential_id=device.credential.credential_id,
        decision=decision,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        verification_code=code,
        signature=signature(device, challenge, decision, reason, code),
    )


async def set_expiry(database: Database, challenge_id: str, expires_at_ms: int) -> None:
    async with database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge_id)
            .values(expires_at_ms=expires_at_ms)
        )


# --- challenges ----------------------------------------------------------------------------


async def test_create_get_and_pending_for_user(stack: Stack) -> None:
    services = stack.services
    user = fresh_user()
    device = await enroll(services, user)
    created = await create(services, user)
    fetched = await services.challenges.get(created.challenge_id)
    assert fetched == created
    assert fetched.status is ChallengeStatus.PENDING
    assert [c.challenge_id for c in await services.challenges.pending_for_user(user)] == [
        created.challenge_id
    ]
    assert await services.challenges.pending_for_user(fresh_user()) == []
    resolved = await respond(services, device, created)
    assert resolved.status is ChallengeStatus.APPROVED
    assert await services.challenges.pending_for_user(user) == []
    again = await services.challenges.get(created.challenge_id)
    assert again.status is ChallengeStatus.APPROVED
    assert again.credential_id == device.credential.credential_id
    assert again.signature is not None


async def test_context_survives_the_round_trip(stack: Stack) -> None:
    from pushauth_server.domain.challenges.schemas import ContextIn

    user = fresh_user()
    await enroll(stack.services, user)
    context = ContextIn(
        note="Zürich — VPN",
        initiator_host="vpn.example.com",
        initiator_ip="2001:db8::1",
        initiator_user_agent="curl/8",
        custom={"b": "2", "a": "1"},
    )
    created = await create(stack.services, user, context=context)
    fetched = await stack.services.challenges.get(created.challenge_id)
    assert fetched.context == created.context
    assert context_hash(fetched.context) == context_hash(created.context)


async def test_unknown_challenge(stack: Stack) -> None:
    with pytest.raises(errors.ChallengeNotFound):
        await stack.services.challenges.get("ch_nope")


async def test_resolve_is_compare_and_set(stack: Stack) -> None:
    user = fresh_user()
    await enroll(stack.services, user)
    created = await create(stack.services, user)
    async with stack.database.write() as connection:
        first = await store.resolve(
            connection, created.challenge_id, ChallengeStatus.DENIED, resolved_at_ms=1
        )
        second = await store.resolve(
            connection, created.challenge_id, ChallengeStatus.APPROVED, resolved_at_ms=2
        )
    assert first is not None
    assert first.status is ChallengeStatus.DENIED
    assert second is None
    current = await stack.services.challenges.get(created.challenge_id)
    assert (current.status, current.resolved_at_ms) == (ChallengeStatus.DENIED, 1)


async def test_expire_due_expires_only_what_is_due_and_only_once(stack: Stack) -> None:
    services = stack.services
    due_user, later_user = fresh_user(), fresh_user()
    await enroll(services, due_user)
    await enroll(services, later_user)
    due = await create(services, due_user)
    later = await create(services, later_user)
    await set_expiry(stack.database, due.challenge_id, now_ms() - 1)
    assert await services.challenges.pending_for_user(due_user) == []  # hidden at once
    expired = await services.challenges.expire_due()
    assert [c.challenge_id for c in expired] == [due.challenge_id]
    assert expired[0].status is ChallengeStatus.EXPIRED
    assert await services.challenges.expire_due() == []
    assert (await services.challenges.get(later.challenge_id)).status is ChallengeStatus.PENDING
    assert len(stack.notifier.resolutions(due.challenge_id)) == 1


async def test_get_expires_a_due_challenge(stack: Stack) -> None:
    user = fresh_user()
    await enroll(stack.services, user)
    created = await create(stack.services, user)
    await set_expiry(stack.database, created.challenge_id, now_ms() - 1)
    assert (await stack.services.challenges.get(created.challenge_id)).status is (
        ChallengeStatus.EXPIRED
    )
    assert await stack.services.challenges.expire_due() == []


async def test_a_late_answer_cannot_approve(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    created = await create(stack.services, user)
    past = now_ms() - 1
    await set_expiry(stack.database, created.challenge_id, past)
    late = dataclasses.replace(created, expires_at_ms=past)
    with pytest.raises(errors.ChallengeNotPending):
        await respond(stack.services, device, late)
    assert (await stack.services.challenges.get(created.challenge_id)).status is (
        ChallengeStatus.EXPIRED
    )


async def test_second_response_is_refused(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    created = await create(stack.services, user)
    await respond(stack.services, device, created, decision="deny")
    with pytest.raises(errors.ChallengeNotPending):
        await respond(stack.services, device, created, decision="approve")
    assert (await stack.services.challenges.get(created.challenge_id)).status is (
        ChallengeStatus.DENIED
    )


# --- enrollment and credentials ------------------------------------------------------------


async def test_enrollment_token_is_single_use(stack: Stack) -> None:
    services = stack.services
    user = fresh_user()
    token, _ = await services.enrollment.issue_token(user, OPERATOR)
    first = enrollment_proof(generate_private_key(), origin=ORIGIN, token=token, device_name="a")
    enrollment = await services.enrollment.register(**first)
    assert enrollment.credential.user_id == user
    second = enrollment_proof(generate_private_key(), origin=ORIGIN, token=token, device_name="b")
    with pytest.raises(errors.EnrollmentTokenInvalid):
        await services.enrollment.register(**second)
    assert [c.name for c in await services.devices.list_for_user(user)] == ["a"]


async def test_concurrent_registrations_consume_the_token_once(stack: Stack) -> None:
    services = stack.services
    user = fresh_user()
    token, _ = await services.enrollment.issue_token(user, OPERATOR)
    bodies = [
        enrollment_proof(generate_private_key(), origin=ORIGIN, token=token, device_name=f"d{i}")
        for i in range(6)
    ]
    results = await asyncio.gather(
        *(services.enrollment.register(**body) for body in bodies), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Enrollment)]
    losers = [r for r in results if not isinstance(r, Enrollment)]
    assert len(winners) == 1
    assert all(isinstance(r, errors.EnrollmentTokenInvalid) for r in losers), losers
    assert len(await services.devices.list_for_user(user)) == 1


async def test_credential_revoke_is_compare_and_set(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    credential_id = device.credential.credential_id
    async with stack.database.write() as connection:
        assert await device_store.revoke(connection, credential_id, 10) is True
        assert await device_store.revoke(connection, credential_id, 20) is False
        stored = await device_store.get(connection, credential_id)
    assert stored is not None
    assert stored.revoked_at_ms == 10


async def test_concurrent_revokes_revoke_once(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    credential_id = device.credential.credential_id
    results = await asyncio.gather(
        *(stack.services.devices.revoke(credential_id) for _ in range(5)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Credential)]
    assert len(winners) == 1
    assert winners[0].is_revoked
    assert all(isinstance(r, errors.CredentialAlreadyRevoked) for r in results if r not in winners)
    revoked_events = [e for e in stack.notifier.published if e.get("type") == "revoked"]
    assert len(revoked_events) == 1
    with pytest.raises(errors.CredentialNotFound):
        await stack.services.devices.revoke("cr_nope")


async def test_a_revoked_credential_cannot_create_challenges_for_its_user(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    await stack.services.devices.revoke(device.credential.credential_id)
    with pytest.raises(errors.NoEnrolledDevice):
        await create(stack.services, user)


async def test_public_key_is_stored_as_registered(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    [stored] = await stack.services.devices.list_for_user(user)
    assert stored.public_key == public_key_b64(device.key)


# --- exactly once, under any interleaving (STYLE 12) ---------------------------------------

OPERATIONS = ["approve", "approve_wrong_code", "deny", "not_me", "cancel", "expire"]
RESPONSE_OUTCOMES = {
    "approve": (ChallengeStatus.APPROVED, None),
    "approve_wrong_code": (ChallengeStatus.DENIED, "wrong_code"),
    "deny": (ChallengeStatus.DENIED, "user_denied"),
    "not_me": (ChallengeStatus.DENIED, "not_me"),
    "cancel": (ChallengeStatus.CANCELLED, None),
}


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


async def _operation(
    stack: Stack, device: Enrolled, challenge: Challenge, name: str, yields: int
) -> Challenge:
    for _ in range(yields):  # let the others run first: a different interleaving, no timing
        await asyncio.sleep(0)
    services = stack.services
    if name == "approve":
        return await respond(services, device, challenge)
    if name == "approve_wrong_code":
        return await respond(services, device, challenge, code=_wrong(challenge.verification_code))
    if name == "deny":
        return await respond(services, device, challenge, decision="deny")
    if name == "not_me":
        return await respond(services, device, challenge, decision="deny", reason="not_me")
    if name == "cancel":
        return await services.challenges.cancel(challenge.challenge_id)
    # The expiry path's compare-and-set, as the sweeper or a reader takes it when time is up.
    return await services.challenges.expire_if_due(dataclasses.replace(challenge, expires_at_ms=0))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(min_value=0, max_value=4)),
        min_size=2,
        max_size=6,
    )
)
async def test_any_interleaving_resolves_a_challenge_exactly_once(
    stack: Stack, plan: list[tuple[str, int]]
) -> None:
    user = fresh_user("race")  # a fresh user per example: limits are per user
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    results = await asyncio.gather(
        *(_operation(stack, device, challenge, name, yields) for name, yields in plan),
        return_exceptions=True,
    )
    final = await stack.services.challenges.get(challenge.challenge_id)
    assert final.status.is_terminal

    winners: list[tuple[str, Challenge]] = []
    for (name, _), result in zip(plan, results, strict=True):
        if name == "expire":
            assert isinstance(result, Challenge), result
            assert result.status is final.status  # the loser sees the winner's state
            continue
        if isinstance(result, BaseException):
            # Every loser is told the challenge is no longer pending, nothing else.
            assert isinstance(result, errors.ChallengeNotPending), repr(result)
            assert result.details["status"] == final.status.value
        else:
            winners.append((name, result))
    expired_won = final.status is ChallengeStatus.EXPIRED
    assert len(winners) + int(expired_won) == 1, (plan, winners, final.status)
    if winners:
        name, won = winners[0]
        assert (won.status, won.reason) == RESPONSE_OUTCOMES[name]
        assert (final.status, final.reason) == RESPONSE_OUTCOMES[name]
    # One resolution was announced, whoever won.
    [announced] = stack.notifier.resolutions(challenge.challenge_id)
    assert announced["status"] == final.status.value
