"""The application service on each database: keys found by their hash, rotation's grace,
revocation, last-used times written in one flush, reads folded into counted audit rows."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, text

from pushauth_server import errors
from pushauth_server.clock import sha256_hex
from pushauth_server.domain.apps.keys import looks_like_key
from pushauth_server.domain.apps.models import OPERATOR, Scope
from pushauth_server.domain.audit.records import AuditEvent
from pushauth_server.storage.tables import api_keys, applications, audit_events
from tests.server.test_storage import (  # noqa: F401 - fixtures
    Stack,
    database,
    stack,
)


async def test_create_authenticate_rotate_revoke(stack: Stack) -> None:
    apps = stack.services.apps
    _created, key = await apps.create(
        name="web",
        display_name="Web shop",
        scopes=frozenset({Scope.CHALLENGES}),
        users=("deploy-*",),
        by=OPERATOR,
    )
    assert looks_like_key(key)
    found = await apps.authenticate(key)
    assert found is not None
    assert found.name == "web"
    assert found.users == ("deploy-*",)
    assert found.scopes == frozenset({Scope.CHALLENGES})
    async with stack.database.read() as connection:
        hashes = [row.key_hash for row in await connection.execute(select(api_keys))]
    assert hashes == [sha256_hex(key)]  # only the hash is stored

    with pytest.raises(errors.AppNameTaken):
        await apps.create(
            name="web", display_name="x", scopes=frozenset({Scope.ADMIN}), users=None, by=OPERATOR
        )

    _, new, _ = await apps.rotate("web", grace_seconds=3600, by=OPERATOR)
    assert await apps.authenticate(key) is not None  # in its grace period
    assert await apps.authenticate(new) is not None
    _, newest, _ = await apps.rotate("web", grace_seconds=0, by=OPERATOR)
    assert await apps.authenticate(key) is None  # a rotation without grace ends every old key
    assert await apps.authenticate(new) is None
    assert await apps.authenticate(newest) is not None

    await apps.revoke("web", by=OPERATOR)
    assert await apps.authenticate(newest) is None
    with pytest.raises(errors.AppRevoked):
        await apps.rotate("web", grace_seconds=0, by=OPERATOR)
    with pytest.raises(errors.OperatorAppFixed):
        await apps.revoke(OPERATOR.name, by=OPERATOR)
    with pytest.raises(errors.AppNotFound):
        await apps.get("nothing")


async def test_last_used_is_written_by_the_flush_only(stack: Stack) -> None:
    apps = stack.services.apps
    _, key = await apps.create(
        name="ci", display_name="CI", scopes=frozenset({Scope.CHALLENGES}), users=None, by=OPERATOR
    )
    assert await apps.authenticate(key) is not None
    assert (await apps.get("ci")).last_used_at_ms is None  # no write on the request
    assert apps.last_used_here((await apps.get("ci")).identity.app_id) is not None
    await apps.flush_last_used()
    assert (await apps.get("ci")).last_used_at_ms is not None
    async with stack.database.read() as connection:
        count = len((await connection.execute(select(applications))).all())
    assert count == 2  # the operator's row and this one


async def test_reads_are_folded_into_one_counted_row(stack: Stack) -> None:
    audit = stack.services.audit
    for _ in range(5):
        audit.reads.note(AuditEvent.CHALLENGE_READ, OPERATOR, challenge_id="ch_1", user_id="u")
    audit.reads.note(AuditEvent.AUDIT_READ, OPERATOR)
    await audit.tick()
    async with stack.database.read() as connection:
        rows = (
            await connection.execute(
                select(audit_events.c.event, audit_events.c.detail_json).order_by(
                    audit_events.c.event_id
                )
            )
        ).all()
    events = [(row.event, row.detail_json) for row in rows if row.event.endswith(".read")]
    assert [event for event, _ in events] == ["challenge.read", "audit.read"]
    assert '"count": 5' in events[0][1]
    assert '"app": "operator"' in events[0][1]
    await audit.tick()  # nothing new: nothing written
    async with stack.database.read() as connection:
        assert len((await connection.execute(select(audit_events))).all()) == len(rows)


async def test_two_creates_of_one_name_at_once_refuse_the_second_by_name(stack: Stack) -> None:
    """PostgreSQL: both creates find the name free, the second insert then waits on the unique
    index and fails there: that is ``409 app_name_taken``, not a 500."""
    if stack.database.is_sqlite:
        pytest.skip("one SQLite writer at a time: the two creates cannot interleave")
    apps = stack.services.apps
    waiting = (
        select(func.count())
        .select_from(text("pg_stat_activity"))
        .where(
            text("wait_event_type = 'Lock'"),
            text("query LIKE 'INSERT INTO applications%'"),
            text("datname = current_database()"),
        )
    )
    async with stack.database.write() as first:
        await first.execute(
            insert(applications).values(
                app_id="app_first",
                name="race",
                display_name="First",
                scopes="challenges",
                created_at_ms=1,
            )
        )
        second = asyncio.create_task(
            apps.create(
                name="race",
                display_name="Second",
                scopes=frozenset({Scope.CHALLENGES}),
                users=None,
                by=OPERATOR,
            )
        )
        while True:  # until the second create waits on the first's uncommitted row
            async with stack.database.read() as connection:
                if (await connection.execute(waiting)).scalar_one():
                    break
            assert not second.done(), second
            await asyncio.sleep(0.01)  # a poll interval, not a synchronisation
    with pytest.raises(errors.AppNameTaken):
        await second
    async with stack.database.read() as connection:
        names = [row.display_name for row in await connection.execute(select(applications))]
    assert "Second" not in names
