"""`audit verify` finds every way a rewritten row could claim an approval the device never gave.

The tamperer here has database access and has dropped the append-only triggers (or edits the
challenges table, which has none): each rewrite below must be reported.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import insert, text, update

from pushauth_server.domain.audit import store as audit_store
from pushauth_server.storage import tables
from tests.server.conftest import fresh_user
from tests.server.test_storage import (  # noqa: F401 - fixtures
    ORIGIN,
    Stack,
    create,
    database,
    enroll,
    respond,
    stack,
)


async def _verify(stack: Stack) -> list[audit_store.Problem]:
    async with stack.database.read() as connection:
        _, problems = await audit_store.verify_receipts(connection, ORIGIN)
    return problems


async def _drop_triggers(stack: Stack) -> None:
    async with stack.database.write() as connection:
        if stack.database.is_sqlite:
            await connection.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            await connection.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))


def _challenge(challenge_id: str) -> Callable[[audit_store.Problem], bool]:
    return lambda p: p.challenge_id == challenge_id


async def test_honest_history_verifies(stack: Stack) -> None:
    services = stack.services
    for decision, code_ok in (("approve", True), ("approve", False), ("deny", True)):
        user = fresh_user()
        device = await enroll(services, user)
        challenge = await create(services, user)
        right = challenge.verification_code
        code = right if code_ok else str((int(right) + 1) % 10**6).zfill(6)
        await respond(services, device, challenge, decision=decision, code=code)
    assert await _verify(stack) == []


async def test_an_unanswered_challenge_marked_approved(stack: Stack) -> None:
    user = fresh_user()
    await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    await stack.services.challenges.cancel(challenge.challenge_id)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge.challenge_id)
            .values(status="approved", reason=None)
        )
    problems = await _verify(stack)
    assert any(map(_challenge(challenge.challenge_id), problems))


async def test_a_wrong_number_rewritten_as_approved(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    wrong = str((int(challenge.verification_code) + 1) % 10**6).zfill(6)
    denied = await respond(stack.services, device, challenge, code=wrong)
    assert denied.reason == "wrong_code"
    await _drop_triggers(stack)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge.challenge_id)
            .values(status="approved", reason=None)
        )
        await connection.execute(
            update(tables.audit_events)
            .where(tables.audit_events.c.challenge_id == challenge.challenge_id)
            .where(tables.audit_events.c.event == "challenge.denied")
            .values(event="challenge.approved")
        )
    problems = await _verify(stack)
    wheres = {p.where.split(" ")[0] for p in problems if p.challenge_id == challenge.challenge_id}
    assert wheres == {"challenge", "audit"}


@pytest.mark.parametrize(
    "receipt_json", [None, "not json", '{"decision": ["approve"]}'], ids=["none", "text", "list"]
)
async def test_forged_or_corrupt_audit_rows_are_reported_not_fatal(
    stack: Stack, receipt_json: str | None
) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    await respond(stack.services, device, challenge)
    async with stack.database.write() as connection:
        await connection.execute(
            insert(tables.audit_events).values(
                at_ms=1,
                event="challenge.approved",
                user_id=user,
                challenge_id=challenge.challenge_id,
                receipt_json=receipt_json,
            )
        )
    problems = await _verify(stack)
    assert len([p for p in problems if p.challenge_id == challenge.challenge_id]) == 1


async def test_each_signed_response_is_counted_once(stack: Stack) -> None:
    # A challenge's row and its audit event carry the same signed answer: one response, not two.
    async with stack.database.read() as connection:
        before, _ = await audit_store.verify_receipts(connection, ORIGIN)
    for decision in ("approve", "deny", "approve"):
        user = fresh_user()
        device = await enroll(stack.services, user)
        challenge = await create(stack.services, user)
        await respond(stack.services, device, challenge, decision=decision)
    async with stack.database.read() as connection:
        checked, problems = await audit_store.verify_receipts(connection, ORIGIN)
    assert problems == []
    assert checked - before == 3
