"""A database from before protocol version 3: its challenges were stored without the asking
application and answered by version 2 devices. Those answers still verify in ``audit verify``
(their context hash is computed without the application, under version byte 2), and a challenge
that was pending across the upgrade is answered by a version 3 device.

Rows are written as the version 2 server wrote them (its context JSON, its hash, its receipts),
on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select, update

from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit import verify
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.audit.store import check_receipts
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import ChallengeStatus, context_hash, sign
from pushauth_server.protocol.legacy import ChallengeResponseV2, as_older, legacy_context_hash
from pushauth_server.storage import tables
from tests.server.conftest import fresh_user
from tests.server.test_storage import (  # noqa: F401 - fixtures
    ORIGIN,
    Enrolled,
    Stack,
    create,
    database,
    enroll,
    respond,
    stack,
)

_C = tables.challenges.c


async def _as_stored_by_version_2(stack: Stack, challenge: Challenge) -> str:
    """Rewrite the challenge's stored context as a version 2 server stored it: no application,
    and the version 2 hash. Returns that hash."""
    async with stack.database.read() as connection:
        query = select(_C.context_json).where(_C.challenge_id == challenge.challenge_id)
        stored = json.loads((await connection.execute(query)).scalar_one())
    assert stored.pop("application") == "Operator"
    v2_hash = legacy_context_hash(challenge.context, version=2)
    stored["hash"] = v2_hash
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(_C.challenge_id == challenge.challenge_id)
            .values(context_json=json.dumps(stored, sort_keys=True))
        )
    return v2_hash


async def _report(stack: Stack) -> verify.Report:
    async with stack.database.read() as connection:
        return await verify.run(connection, current_origin=ORIGIN)


async def _answer_as_version_2(stack: Stack, device: Enrolled, challenge: Challenge) -> None:
    """What a version 2 server recorded for a version 2 device's approval: the challenge row
    and the audit row with its receipt (``protocol_version`` 2)."""
    message = as_older(
        ChallengeResponseV2,
        challenge.response_message(
            origin=ORIGIN,
            credential_id=device.credential.credential_id,
            decision="approve",
            reason="",
            verification_code=challenge.verification_code,
        ),
        context_hash=legacy_context_hash(challenge.context, version=2),
    )
    signature = sign(device.key, message)
    resolved = challenge.created_at_ms + 1
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(_C.challenge_id == challenge.challenge_id)
            .values(
                status="approved",
                resolved_at_ms=resolved,
                credential_id=device.credential.credential_id,
                decision="approve",
                response_reason="",
                response_code=challenge.verification_code,
                signature=signature,
            )
        )
        receipt = {**dict(message.fields()), "signature": signature, "protocol_version": 2}
        await audit_log.append(
            connection,
            AuditRecord(
                event=AuditEvent.CHALLENGE_APPROVED,
                user_id=challenge.user_id,
                challenge_id=challenge.challenge_id,
                credential_id=device.credential.credential_id,
                action=challenge.action,
                context={k: v for k, v in challenge.context.shown().items() if k != "application"},
                receipt=receipt,
            ),
        )


async def test_answers_signed_under_version_2_still_verify(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    await _as_stored_by_version_2(stack, challenge)
    await _answer_as_version_2(stack, device, challenge)
    # An honest version 3 answer in the same database, next to it.
    other = fresh_user()
    await respond(
        stack.services, await enroll(stack.services, other), await create(stack.services, other)
    )
    report = await _report(stack)
    assert report.valid, [f"{p.where}: {p.problem}" for p in report.problems]
    assert report.checked == 2


async def test_a_version_2_receipt_claimed_as_version_3_does_not_verify(stack: Stack) -> None:
    """The version a receipt carries decides how it is read: relabelled, it fails."""
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    await _as_stored_by_version_2(stack, challenge)
    await _answer_as_version_2(stack, device, challenge)
    async with stack.database.read() as connection:
        query = tables.audit_events.select().where(
            tables.audit_events.c.challenge_id == challenge.challenge_id,
            tables.audit_events.c.event == AuditEvent.CHALLENGE_APPROVED.value,
        )
        row = (await connection.execute(query)).one()
    record = AuditRecord.from_row(row)
    assert record.receipt is not None
    keys = {device.credential.credential_id: device.credential.public_key}
    answered = await stack.services.challenges.get(challenge.challenge_id)
    _, problems = check_receipts([answered], [record], keys, {ORIGIN: 1})
    assert problems == []
    relabelled = dataclasses.replace(record, receipt={**record.receipt, "protocol_version": 3})
    _, problems = check_receipts([answered], [relabelled], keys, {ORIGIN: 1})
    assert [p.problem for p in problems] == ["the signature does not verify"]


async def test_a_challenge_pending_across_the_upgrade_is_answered_by_a_version_3_device(
    stack: Stack,
) -> None:
    """Stored without an application (version 2), it reaches the device with an empty one; the
    device signs that under version 3, the server accepts it, and the audit verifies."""
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    v2_hash = await _as_stored_by_version_2(stack, challenge)
    reread = await stack.services.challenges.get(challenge.challenge_id)
    assert reread.context.application == ""
    assert reread.context_hash == context_hash(reread.context) != v2_hash
    answered = await respond(stack.services, device, reread)
    assert answered.status is ChallengeStatus.APPROVED
    report = await _report(stack)
    assert report.valid, [f"{p.where}: {p.problem}" for p in report.problems]
