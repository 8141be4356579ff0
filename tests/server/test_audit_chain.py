"""The audit hash chain and the cross-checks of `audit verify`, tried as an attacker with database
access would (issue 10): every rewrite, deletion and forgery below passed `audit verify` before
the chain and the cross-checks existed.

The attacker drops the append-only guard first where a change needs it (a database owner can);
rows are then changed with plain SQL, as a shell on the database would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from pushauth_server.clock import now_ms
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit import origins, verify
from pushauth_server.domain.audit.chain import Head
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.audit.store import check_receipts
from pushauth_server.protocol import ChallengeResponse, generate_private_key, public_key_b64, sign
from pushauth_server.protocol.legacy import ChallengeResponseV1, legacy_context_hash
from pushauth_server.storage import Database, tables
from pushauth_server.storage.audit_chain import CONTENT_FIELDS, link_hash
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

_A = tables.audit_events.c


async def _report(stack: Stack, since: Head | None = None, origin: str = ORIGIN) -> verify.Report:
    async with stack.database.read() as connection:
        return await verify.run(connection, current_origin=origin, since=since)


def _problems(report: verify.Report) -> list[str]:
    return [f"{p.where}: {p.problem}" for p in report.problems]


async def _drop_guards(stack: Stack) -> None:
    async with stack.database.write() as connection:
        if stack.database.is_sqlite:
            await connection.execute(text("DROP TRIGGER audit_events_no_update"))
            await connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            await connection.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
            await connection.execute(text("DROP TRIGGER audit_events_no_truncate ON audit_events"))


async def _history(stack: Stack) -> list[str]:
    """An honest history: approvals, a wrong number, a denial, a 'not me'. Challenge ids."""
    ids: list[str] = []
    for decision, reason, code_ok in (
        ("approve", "", True),
        ("approve", "", False),
        ("deny", "", True),
        ("deny", "not_me", True),
    ):
        user = fresh_user()
        device = await enroll(stack.services, user)
        challenge = await create(stack.services, user)
        right = challenge.verification_code
        code = right if code_ok else str((int(right) + 1) % 10**6).zfill(6)
        await respond(
            stack.services, device, challenge, decision=decision, reason=reason, code=code
        )
        ids.append(challenge.challenge_id)
    return ids


async def _row(stack: Stack, seq: int) -> dict[str, object]:
    async with stack.database.read() as connection:
        row = (await connection.execute(select(tables.audit_events).where(_A.seq == seq))).one()
    return dict(row._mapping)


async def test_an_honest_history_verifies_and_the_head_is_the_last_row(stack: Stack) -> None:
    await _history(stack)
    report = await _report(stack)
    assert report.valid, _problems(report)
    assert report.chain.before_chain == 0
    assert report.chain.head is not None
    assert report.chain.head.seq == report.chain.rows
    assert report.chain.head.hash == (await _row(stack, report.chain.rows))["row_hash"]
    # The head recorded now proves the same history later.
    again = await _report(stack, since=report.chain.head)
    assert again.valid, _problems(again)


async def test_a_deleted_row_is_a_gap(stack: Stack) -> None:
    await _history(stack)
    await _drop_guards(stack)
    async with stack.database.write() as connection:
        await connection.execute(delete(tables.audit_events).where(_A.seq == 3))
    problems = _problems(await _report(stack))
    assert any("rows 3 of the chain are missing (deleted)" in p for p in problems), problems


async def test_a_rewritten_row_no_longer_matches_its_hash(stack: Stack) -> None:
    await _history(stack)
    await _drop_guards(stack)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.audit_events).where(_A.seq == 2).values(action="sudo-rewritten")
        )
    problems = _problems(await _report(stack))
    assert any(p.startswith("audit seq 2 ") and "rewritten" in p for p in problems), problems


async def test_a_rewritten_and_rehashed_row_breaks_the_next_link(stack: Stack) -> None:
    await _history(stack)
    await _drop_guards(stack)
    row = await _row(stack, 2)
    row["action"] = "sudo-rewritten"
    new_hash = link_hash(2, {n: row[n] for n in CONTENT_FIELDS}, row["prev_hash"])  # type: ignore[arg-type]
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.audit_events)
            .where(_A.seq == 2)
            .values(action="sudo-rewritten", row_hash=new_hash)
        )
    problems = _problems(await _report(stack))
    assert any(p.startswith("audit seq 3 ") and "broken link" in p for p in problems), problems


async def _rehash_from(stack: Stack, seq: int) -> None:
    """The attacker recomputes every hash from ``seq`` on, leaving a consistent chain."""
    async with stack.database.read() as connection:
        rows = [
            dict(r._mapping)
            for r in await connection.execute(
                select(tables.audit_events).where(_A.seq >= seq - 1).order_by(_A.seq)
            )
        ]
    previous = rows[0]["row_hash"] if seq > 1 else None
    async with stack.database.write() as connection:
        for row in rows[1:] if seq > 1 else rows:
            content = {n: row[n] for n in CONTENT_FIELDS}
            digest = link_hash(int(row["seq"]), content, previous)  # type: ignore[arg-type,call-overload]
            await connection.execute(
                update(tables.audit_events)
                .where(_A.seq == row["seq"])
                .values(prev_hash=previous, row_hash=digest)
            )
            previous = digest


async def test_a_rehashed_chain_is_caught_only_against_a_recorded_head(stack: Stack) -> None:
    await _history(stack)
    head = (await _report(stack)).chain.head
    assert head is not None
    await _drop_guards(stack)
    async with stack.database.write() as connection:
        seq = (
            await connection.execute(
                select(_A.seq).where(_A.event == "challenge.created").order_by(_A.seq).limit(1)
            )
        ).scalar_one()
        changed = await connection.execute(
            update(tables.audit_events).where(_A.seq == seq).values(action="harmless-looking")
        )
        assert changed.rowcount == 1
    await _rehash_from(stack, seq)
    alone = await _report(stack)
    assert not [p for p in alone.problems if p.where.startswith("audit seq")], _problems(alone)
    problems = _problems(await _report(stack, since=head))
    assert any("no longer has the recorded hash" in p for p in problems), problems


async def test_deleting_the_newest_rows_is_caught_against_a_recorded_head(stack: Stack) -> None:
    await _history(stack)
    head = (await _report(stack)).chain.head
    assert head is not None
    await _drop_guards(stack)
    async with stack.database.write() as connection:
        await connection.execute(delete(tables.audit_events).where(_A.seq == head.seq))
    problems = _problems(await _report(stack, since=head))
    assert any(f"has no row {head.seq} any more" in p for p in problems), problems


async def test_a_not_me_reason_set_to_null_is_reported(stack: Stack) -> None:
    ids = await _history(stack)
    not_me = ids[3]
    async with stack.database.write() as connection:  # the challenges table has no guard
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == not_me)
            .values(reason=None)
        )
    problems = [p for p in (await _report(stack)).problems if p.challenge_id == not_me]
    assert any("challenge.reported_not_me" in p.problem for p in problems), problems
    assert any("the signed answer means denied (not_me)" in p.problem for p in problems), problems


async def test_an_approval_forged_for_an_expired_challenge_with_an_added_credential(
    stack: Stack,
) -> None:
    user = fresh_user()
    await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge.challenge_id)
            .values(expires_at_ms=now_ms() - 1000)
        )
    await stack.services.challenges.expire_due()
    # The attacker adds a credential of their own and signs an approval with it.
    key = generate_private_key()
    credential_id = "cr_forged"
    async with stack.database.write() as connection:
        await connection.execute(
            insert(tables.credentials).values(
                credential_id=credential_id,
                user_id=user,
                name="attacker",
                public_key=public_key_b64(key),
                created_at_ms=challenge.created_at_ms,
            )
        )
    expired = await stack.services.challenges.get(challenge.challenge_id)
    message = ChallengeResponse(
        origin=ORIGIN,
        challenge_id=challenge.challenge_id,
        nonce=challenge.nonce,
        decision="approve",
        reason="",
        verification_code=challenge.verification_code,
        credential_id=credential_id,
        context_hash=challenge.context_hash,
        expires_at_ms=expired.expires_at_ms,
    )
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge.challenge_id)
            .values(
                status="approved",
                reason=None,
                credential_id=credential_id,
                decision="approve",
                response_reason="",
                response_code=challenge.verification_code,
                signature=sign(key, message),
            )
        )
    problems = [
        p.problem
        for p in (await _report(stack)).problems
        if p.challenge_id == challenge.challenge_id
    ]
    assert any("approved after the challenge had expired" in p for p in problems), problems
    assert any("whose enrollment is not in the audit trail" in p for p in problems), problems
    assert any("audit trail says challenge.expired" in p for p in problems), problems


async def test_an_approval_by_a_credential_revoked_before_it_is_reported(stack: Stack) -> None:
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    await respond(stack.services, device, challenge)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.credentials)
            .where(tables.credentials.c.credential_id == device.credential.credential_id)
            .values(revoked_at_ms=challenge.created_at_ms)
        )
    problems = [p.problem for p in (await _report(stack)).problems]
    assert any("after it was revoked" in p for p in problems), problems


async def test_an_emptied_audit_table_is_reported(stack: Stack) -> None:
    await _history(stack)
    await _drop_guards(stack)
    async with stack.database.write() as connection:
        await connection.execute(delete(tables.audit_events))
    problems = _problems(await _report(stack))
    assert any("the audit trail is empty but 4 challenges exist" in p for p in problems), problems


async def test_receipts_verify_under_their_own_origin_after_a_move(stack: Stack) -> None:
    await _history(stack)
    moved = "https://moved.example.test:8443"
    await origins.register(stack.database, ORIGIN)
    await origins.register(stack.database, moved)
    report = await _report(stack, origin=moved)
    assert report.valid, _problems(report)


async def test_a_receipt_under_an_origin_never_served_is_reported(stack: Stack) -> None:
    other = "https://other.example.test"
    await origins.register(stack.database, other)  # this deployment only ever served here
    await _history(stack)
    problems = [p.problem for p in (await _report(stack, origin=other)).problems]
    assert any(
        f"origin {ORIGIN}, which this deployment has never served under" in p for p in (problems)
    ), problems
    assert any("does not verify under any origin" in p for p in problems), problems


async def test_the_first_start_records_the_origin_once_with_an_audit_row(stack: Stack) -> None:
    assert await origins.register(stack.database, ORIGIN) is True
    assert await origins.register(stack.database, ORIGIN) is False
    async with stack.database.read() as connection:
        rows = list(
            await connection.execute(
                select(tables.audit_events).where(_A.event == "deployment.origin_added")
            )
        )
    assert len(rows) == 1
    assert ORIGIN in rows[0].detail_json


# --- SQLite: REPLACE and UPSERT cannot rewrite a row ------------------------------------------


async def test_sqlite_replace_and_upsert_fail_on_the_audit_table(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'guard.db'}")
    await db.create_schema()
    try:
        assert await origins.register(db, ORIGIN)
        for statement in (
            "INSERT OR REPLACE INTO audit_events (event_id, at_ms, event) VALUES (1, 1, 'x')",
            "REPLACE INTO audit_events (event_id, at_ms, event) VALUES (1, 1, 'x')",
            "INSERT INTO audit_events (event_id, at_ms, event) VALUES (1, 1, 'x') "
            "ON CONFLICT (event_id) DO UPDATE SET event = 'x'",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.write() as connection:
                    await connection.execute(text(statement))
        async with db.read() as connection:
            [row] = list(await connection.execute(select(tables.audit_events)))
        assert row.event == "deployment.origin_added"
    finally:
        await db.dispose()


async def test_sqlite_replace_from_a_shell_without_recursive_triggers_is_found(
    tmp_path: Path,
) -> None:
    """A plain sqlite3 shell does not turn recursive triggers on: REPLACE gets through there,
    and the chain finds it."""
    path = tmp_path / "shell.db"
    db = Database(f"sqlite:///{path}")
    await db.create_schema()
    try:
        await origins.register(db, ORIGIN)
        await origins.register(db, "https://second.example.test")
        shell = sqlite3.connect(path)
        shell.execute(
            "INSERT OR REPLACE INTO audit_events (event_id, at_ms, event, seq, prev_hash, row_hash)"
            " SELECT event_id, at_ms, event, seq, prev_hash, row_hash FROM audit_events"
            " WHERE seq = 1"
        )
        shell.execute(
            "INSERT OR REPLACE INTO audit_events (event_id, at_ms, event, detail_json, seq,"
            " prev_hash, row_hash) SELECT event_id, at_ms, event, '{}', seq, prev_hash, row_hash"
            " FROM audit_events WHERE seq = 2"
        )
        shell.commit()
        shell.close()
        async with db.read() as connection:
            report = await verify.run(connection, current_origin=ORIGIN)
        problems = _problems(report)
        assert any(p.startswith("audit seq 1 ") and "rewritten" in p for p in problems), problems
        assert any(p.startswith("audit seq 2 ") and "rewritten" in p for p in problems), problems
    finally:
        await db.dispose()


async def test_concurrent_writers_form_one_unbroken_chain(database: Database) -> None:
    """Forty transactions at once (on PostgreSQL, on as many pooled connections): one chain."""

    async def one(n: int) -> None:
        async with database.write() as connection:
            await audit_log.append(
                connection, AuditRecord(event=AuditEvent.USER_UNLOCKED, user_id=f"u{n}")
            )

    await asyncio.gather(*(one(n) for n in range(40)))
    async with database.read() as connection:
        report = await verify.run(connection, current_origin=ORIGIN)
    assert report.valid, _problems(report)
    assert report.chain.rows == 40
    assert report.chain.head is not None
    assert report.chain.head.seq == 40


async def test_receipts_signed_under_protocol_version_1_still_verify(stack: Stack) -> None:
    """Devices sign version 3 now; an answer a version-1 device signed (an older database's
    rows: its context hash without the application, under version byte 1) verifies under the
    version its receipt carries, and only under that one."""
    user = fresh_user()
    device = await enroll(stack.services, user)
    challenge = await create(stack.services, user)
    answered = await respond(stack.services, device, challenge)
    message = answered.response_message(
        origin=ORIGIN,
        credential_id=device.credential.credential_id,
        decision="approve",
        reason="",
        verification_code=challenge.verification_code,
    )
    fields = {
        **dict(message.fields()),
        "context_hash": legacy_context_hash(answered.context, version=1),
    }
    v1_signature = sign(device.key, ChallengeResponseV1(**fields))  # type: ignore[arg-type]
    old = dataclasses.replace(answered, signature=v1_signature)
    receipt = {**fields, "signature": v1_signature}  # no version recorded: 1
    keys = {device.credential.credential_id: device.credential.public_key}

    def record(receipt: dict[str, object]) -> AuditRecord:
        return AuditRecord(
            event=AuditEvent.CHALLENGE_APPROVED,
            challenge_id=challenge.challenge_id,
            credential_id=device.credential.credential_id,
            receipt=receipt,
        )

    _, problems = check_receipts([old], [record(receipt)], keys, {ORIGIN: 1})
    assert problems == []
    claimed_v2 = {**receipt, "protocol_version": 2}
    _, problems = check_receipts([old], [record(claimed_v2)], keys, {ORIGIN: 1})
    assert [p.problem for p in problems] == ["the signature does not verify"]
