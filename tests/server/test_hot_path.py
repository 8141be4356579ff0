"""The hot path's other rules (issue 8): nonces kept in memory, bounded and scoped; expiry that
does no work on an idle server; SQLite that never freezes the event loop behind another process."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from pushauth_server import errors
from pushauth_server.app import sweep_once
from pushauth_server.clock import now_ms
from pushauth_server.nonces import Claim, MemoryNonceStore
from pushauth_server.storage import Database, tables
from tests.server.conftest import assert_error, fresh_user, running_harness
from tests.server.test_storage import (  # noqa: F401 - database and stack are fixtures
    Stack,
    create,
    database,
    enroll,
    stack,
)

# --- the in-memory nonce store -------------------------------------------------------------------


async def test_a_nonce_is_accepted_once_per_credential() -> None:
    store = MemoryNonceStore(epoch_ms=0)
    now = now_ms()
    assert await store.claim("cr_a", "n1", now, now + 60_000) is Claim.FRESH
    assert await store.claim("cr_a", "n1", now, now + 60_000) is Claim.REPLAYED
    # Scoped to the credential: another device's use of the same nonce is not a replay.
    assert await store.claim("cr_b", "n1", now, now + 60_000) is Claim.FRESH


async def test_a_nonce_is_forgotten_once_its_proof_has_expired() -> None:
    store = MemoryNonceStore(epoch_ms=0)
    now = now_ms()
    assert await store.claim("cr_a", "old", now - 120_000, now - 60_000) is Claim.FRESH
    assert await store.claim("cr_a", "new", now, now + 60_000) is Claim.FRESH
    assert len(store) == 1  # the expired one was dropped when the next one came


async def test_the_store_is_bounded_and_refuses_rather_than_forgets() -> None:
    store = MemoryNonceStore(epoch_ms=0, max_entries=2)
    now = now_ms()
    await store.claim("cr_a", "1", now, now + 60_000)
    await store.claim("cr_a", "2", now, now + 60_000)
    with pytest.raises(errors.ServerBusy):
        await store.claim("cr_a", "3", now, now + 60_000)
    assert await store.claim("cr_a", "1", now, now + 60_000) is Claim.REPLAYED


async def test_proofs_older_than_the_epoch_are_refused() -> None:
    store = MemoryNonceStore(epoch_ms=now_ms())
    assert await store.claim("cr_a", "n", store.epoch_ms - 1, now_ms() + 1) is Claim.BEFORE_EPOCH


async def test_a_proof_dated_ahead_needs_somewhere_durable() -> None:
    store = MemoryNonceStore(epoch_ms=0)  # no database: cannot survive a crash, so refused
    ahead = now_ms() + 10_000
    assert await store.claim("cr_a", "n", ahead, ahead + 60_000) is Claim.BEFORE_EPOCH


# --- expiry without idle work --------------------------------------------------------------------


class _Writes:
    """Counts write transactions (SQLite's writer takes a connection for each) and statements."""

    def __init__(self, database: Database) -> None:
        self.writer_checkouts = 0
        self.statements: list[str] = []
        writer = database.sync_engines[0]
        event.listen(writer, "checkout", self._checkout)
        for engine in database.sync_engines:
            event.listen(engine, "before_cursor_execute", self._statement)

    def _checkout(self, *_: Any) -> None:
        self.writer_checkouts += 1

    def _statement(self, *args: Any) -> None:
        self.statements.append(" ".join(str(args[2]).split())[:40])


async def test_an_idle_sweep_opens_no_write_transaction(stack: Stack) -> None:
    device = await enroll(stack.services, fresh_user())
    await create(stack.services, device.credential.user_id)  # pending, but not due
    writes = _Writes(stack.database)
    for _ in range(5):
        assert await sweep_once(stack.services) == []
    assert len(writes.statements) == 5  # one read of the next expiry per sweep, nothing else
    assert all(s.startswith("SELECT min(challenges.expires_at_ms)") for s in writes.statements)
    if stack.database.is_sqlite:
        assert writes.writer_checkouts == 0  # SQLite's writer lock was never taken


async def test_a_due_challenge_is_expired_by_one_statement(stack: Stack) -> None:
    device = await enroll(stack.services, fresh_user())
    challenge = await create(stack.services, device.credential.user_id)
    async with stack.database.write() as connection:
        await connection.execute(
            update(tables.challenges)
            .where(tables.challenges.c.challenge_id == challenge.challenge_id)
            .values(expires_at_ms=now_ms() - 1)
        )
    writes = _Writes(stack.database)
    assert await sweep_once(stack.services) == [challenge.challenge_id]
    assert len([s for s in writes.statements if s.startswith("UPDATE challenges")]) == 1
    current = await stack.services.challenges.get(challenge.challenge_id)
    assert current.status.value == "expired"


# --- SQLite and a lock held by another process ---------------------------------------------------

_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


async def test_a_lock_held_by_another_process_never_freezes_the_server(tmp_path: Path) -> None:
    async with running_harness(tmp_path, sqlite_lock_timeout_seconds=2) as harness:
        device = await harness.enroll()
        path = harness.settings.database_url.split("///", 1)[1]
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _HOLDER,
            path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None
            assert (await holder.stdout.readline()).strip() == b"locked"
            # A write waits (without blocking the loop) and gives up with a 503 in bounded time;
            # meanwhile /health and reads answer.
            create = asyncio.ensure_future(
                harness.rp("POST", "/v1/challenges", json={"user_id": device.user_id})
            )
            health = await harness.client.get("/health")
            assert health.status_code == 200
            pending = await harness.client.get(
                "/v1/device/challenges",
                headers=device.identity.proof_headers("GET", "/v1/device/challenges"),
            )
            assert pending.status_code == 200
            assert not create.done()  # still waiting for the lock, and the loop still serves
            error = assert_error(await create, 503, "server_busy")
            assert "locked" in error["message"]
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            await holder.wait()
        # Released: writes go through again.
        created = await harness.rp("POST", "/v1/challenges", json={"user_id": device.user_id})
        assert created.status_code == 201, created.text
        with closing(sqlite3.connect(path)) as check:
            assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
