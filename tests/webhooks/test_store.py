"""The outbox queries on SQLite and PostgreSQL: the insert-select, the claim with its lease, and
the lease's release, each against a real database."""

from __future__ import annotations

import asyncio

import pytest

from pushauth_server.domain.apps.models import OPERATOR
from pushauth_server.domain.webhooks import store
from pushauth_server.storage import Database
from pushauth_server.storage.tables import applications
from tests.server.test_storage import database  # noqa: F401 (the fixture, on both engines)

NOW = 1_795_000_000_000  # past 2^31 ms: every time column must be a 64-bit integer


async def _endpoint(db: Database, endpoint_id: str, app_id: str, events: str | None) -> None:
    async with db.write() as connection:
        await store.add_endpoint(
            connection,
            {
                "endpoint_id": endpoint_id,
                "app_id": app_id,
                "url": "https://rp.example/h",
                "events": events,
                "secret_sealed": "v1.x",
                "created_at_ms": NOW,
            },
        )


async def _queue(db: Database, event: str, prefix: str, app_id: str = OPERATOR.app_id) -> int:
    async with db.write() as connection:
        return await store.enqueue_for_app(
            connection,
            app_id=app_id,
            event=event,
            payload="{}",
            id_prefix=prefix,
            now_ms=NOW,
            retry_until_ms=NOW + 86_400_000,
        )


@pytest.fixture
async def db(database: Database) -> Database:
    async with database.write() as connection:
        await connection.execute(
            applications.insert().values(
                app_id="app_gone",
                name="gone",
                display_name="Gone",
                scopes="challenges",
                created_at_ms=NOW,
                revoked_at_ms=NOW,  # a revoked app's endpoints hear nothing
            )
        )
    await _endpoint(database, "we_all", OPERATOR.app_id, None)
    await _endpoint(database, "we_denied", OPERATOR.app_id, " challenge.denied user.locked ")
    await _endpoint(database, "we_gone", "app_gone", None)
    return database


async def test_one_insert_select_queues_each_subscribed_endpoint(db: Database) -> None:
    assert await _queue(db, "challenge.approved", "msg_a.") == 1
    assert await _queue(db, "challenge.denied", "msg_b.") == 2
    assert await _queue(db, "challenge.denied", "msg_c.", app_id="app_gone") == 0
    async with db.read() as connection:
        rows = await store.deliveries(connection, status=None, endpoint_id=None, limit=10)
        subscribed = await store.subscribers(connection, "user.locked")
    assert sorted(row.delivery_id for row in rows) == [
        "msg_a.we_all",
        "msg_b.we_all",
        "msg_b.we_denied",
    ]
    assert {row.next_attempt_at_ms for row in rows} == {NOW}
    assert sorted(row.endpoint_id for row in subscribed) == ["we_all", "we_denied"]


async def test_claims_are_disjoint_and_a_release_makes_rows_due_again(db: Database) -> None:
    for n in range(6):
        await _queue(db, "challenge.approved", f"msg_{n}.")

    async def claim(worker: str) -> list[str]:
        async with db.write() as connection:
            rows = await store.claim(
                connection, worker=worker, now_ms=NOW, lease_until_ms=NOW + 10_000, limit=4
            )
        return [row.delivery_id for row in rows]

    first, second = await asyncio.gather(claim("wk_1"), claim("wk_2"))
    assert len(first) + len(second) == 6
    assert not set(first) & set(second)  # no delivery leased twice
    assert await claim("wk_3") == []  # every row is leased
    async with db.write() as connection:
        assert await store.release(connection, "wk_1") == len(first)
    assert sorted(await claim("wk_3")) == sorted(first)


async def test_a_lease_that_ran_out_is_claimed_again_and_the_old_holder_loses(
    db: Database,
) -> None:
    await _queue(db, "challenge.approved", "msg_x.")
    async with db.write() as connection:
        [row] = await store.claim(
            connection, worker="wk_dead", now_ms=NOW, lease_until_ms=NOW + 1, limit=1
        )
        [again] = await store.claim(
            connection, worker="wk_new", now_ms=NOW + 1, lease_until_ms=NOW + 9, limit=1
        )
        assert again.delivery_id == row.delivery_id
        assert again.attempts == 2
        finished = await store.mark_finished(
            connection,
            row.delivery_id,
            worker="wk_dead",
            status=store.FAILED,
            status_code=None,
            error="late",
            now_ms=NOW + 2,
        )
        assert finished is False  # it no longer holds the lease: nothing changes
        await store.mark_delivered(
            connection, row.delivery_id, worker="wk_new", status_code=204, now_ms=NOW + 3
        )
        [done] = await store.deliveries(connection, status=None, endpoint_id=None, limit=1)
    assert (done.status, done.last_status_code, done.leased_by) == ("delivered", 204, None)


async def test_only_a_failed_delivery_is_requeued(db: Database) -> None:
    await _queue(db, "challenge.approved", "msg_f.")
    async with db.write() as connection:
        assert (
            await store.requeue(connection, "msg_f.we_all", now_ms=NOW, retry_until_ms=NOW + 5)
            is None
        )
        await store.claim(connection, worker="wk", now_ms=NOW, lease_until_ms=NOW + 5, limit=1)
        await store.mark_finished(
            connection,
            "msg_f.we_all",
            worker="wk",
            status=store.FAILED,
            status_code=500,
            error="HTTP 500",
            now_ms=NOW,
        )
        again = await store.requeue(
            connection, "msg_f.we_all", now_ms=NOW + 10, retry_until_ms=NOW + 99
        )
    assert again is not None
    assert (again.status, again.retry_until_ms, again.next_attempt_at_ms) == (
        "pending",
        NOW + 99,
        NOW + 10,
    )


async def test_a_leased_row_is_next_due_when_its_lease_runs_out(db: Database) -> None:
    await _queue(db, "challenge.approved", "msg_l.")
    async with db.write() as connection:
        await store.claim(connection, worker="wk", now_ms=NOW, lease_until_ms=NOW + 7_000, limit=1)
        # Another process polling now must not see it due (it would claim nothing, again and
        # again): it is due when the lease ends.
        assert await store.next_due(connection) == NOW + 7_000
        await store.mark_retry(
            connection,
            "msg_l.we_all",
            worker="wk",
            status_code=503,
            error="HTTP 503",
            next_attempt_at_ms=NOW + 3_000,
        )
        assert await store.next_due(connection) == NOW + 3_000


async def test_a_capped_claim_takes_at_most_so_many_per_endpoint(db: Database) -> None:
    for n in range(5):  # 5 events, each for we_all and we_denied: 10 rows
        await _queue(db, "challenge.denied", f"msg_{n}.")

    async def claim(worker: str, **cap: object) -> list[tuple[str, str]]:
        async with db.write() as connection:
            rows = await store.claim(
                connection,
                worker=worker,
                now_ms=NOW,
                lease_until_ms=NOW + 10_000,
                limit=16,
                **cap,  # type: ignore[arg-type]
            )
        return sorted((row.endpoint_id, row.delivery_id) for row in rows)

    first = await claim("wk_1", per_endpoint=2)
    assert [e for e, _ in first] == ["we_all", "we_all", "we_denied", "we_denied"]
    # Two at once (PostgreSQL: the rows one reads are skipped by the other until it commits):
    # each within the cap, and never a delivery leased twice.
    second, other = await asyncio.gather(
        claim("wk_2", per_endpoint=2), claim("wk_4", per_endpoint=2)
    )
    for claimed in (second, other):
        assert all([e for e, _ in claimed].count(name) <= 2 for name in ("we_all", "we_denied"))
    assert not set(first) & (set(second) | set(other))
    assert not set(second) & set(other)
    async with db.write() as connection:  # back to where one claim of wk_2 took 4
        await store.release(connection, "wk_4")
        await store.release(connection, "wk_2")
    second = await claim("wk_2", per_endpoint=2)
    assert [e for e, _ in second] == ["we_all", "we_all", "we_denied", "we_denied"]
    # Counting what is already in flight: we_all is full, we_denied has room for one.
    third = await claim("wk_1", per_endpoint=2, in_flight={"we_all": 2, "we_denied": 1})
    assert [e for e, _ in third] == ["we_denied"]
    assert await claim("wk_1", per_endpoint=2, in_flight={"we_all": 2, "we_denied": 2}) == []
    rest = await claim("wk_3")  # uncapped: what is left
    assert [e for e, _ in rest] == ["we_all"]
