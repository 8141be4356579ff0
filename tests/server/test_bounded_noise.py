"""Bounded noise (issue 10, item 5): failed requests are folded into counted audit rows, a client
that keeps failing is answered 429 before any database work, and nothing unauthenticated can
make the server write more than a bounded number of rows a minute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from pushauth_server.client import DeviceIdentity
from pushauth_server.clock import new_id
from pushauth_server.domain.audit.noise import ClientLimiter
from pushauth_server.protocol import generate_private_key
from pushauth_server.storage import Database, tables
from tests.server.conftest import Harness, assert_error, running_harness

BAD_KEY = {"Authorization": "Bearer pak_wrong-" + "x" * 40}


async def _failure_rows(tmp_path: Path) -> list[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'unit.db'}")
    try:
        async with db.read() as connection:
            rows = await connection.execute(
                select(tables.audit_events).where(tables.audit_events.c.event.like("security.%"))
            )
            return [{"event": r.event, "detail": json.loads(r.detail_json or "{}")} for r in rows]
    finally:
        await db.dispose()


@contextmanager
def statements(harness: Harness) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engines = harness.services.database.sync_engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def test_repeated_failures_are_one_row_then_one_counted_row(tmp_path: Path) -> None:
    async with running_harness(tmp_path) as harness:
        for _ in range(10):
            response = await harness.client.get("/v1/audit", headers=BAD_KEY)
            assert_error(response, 401, "invalid_api_key")
    # (stopping the app writes the count still held in memory)
    rows = await _failure_rows(tmp_path)
    assert [(r["event"], r["detail"]["count"]) for r in rows] == [
        ("security.invalid_api_key", 1),
        ("security.invalid_api_key", 9),
    ]
    assert rows[1]["detail"]["repeated"] is True
    assert rows[1]["detail"]["client"]


async def test_a_client_that_keeps_failing_gets_429_before_any_database_work(
    tmp_path: Path,
) -> None:
    async with running_harness(tmp_path, failed_requests_per_minute=5) as harness:
        for _ in range(5):
            assert_error(
                await harness.client.get("/v1/audit", headers=BAD_KEY), 401, "invalid_api_key"
            )
        with statements(harness) as seen:
            refused = await harness.client.get("/v1/audit", headers=BAD_KEY)
            # Even a good request from that address waits out the minute.
            good = await harness.rp("GET", "/v1/audit")
        for response in (refused, good):
            assert_error(response, 429, "rate_limited")
            assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert seen == []
        assert (await harness.client.get("/health")).status_code == 200


async def test_unauthenticated_requests_write_a_bounded_number_of_rows(tmp_path: Path) -> None:
    """Every request names another unknown credential: each is a key of its own, and still the
    rows stop at the cap; the rest are counted in one suppressed row."""
    path = "/v1/device/challenges"
    async with running_harness(
        tmp_path, failure_rows_per_minute=3, failed_requests_per_minute=1000
    ) as harness:
        for _ in range(20):
            identity = DeviceIdentity(
                origin=harness.settings.origin,
                credential_id=new_id("cr"),
                private_key=generate_private_key(),
            )
            response = await harness.client.get(path, headers=identity.proof_headers("GET", path))
            assert response.status_code == 401, response.text
    rows = await _failure_rows(tmp_path)
    assert [r["event"] for r in rows] == ["security.unknown_credential"] * 3 + [
        "security.failures_suppressed"
    ]
    assert rows[3]["detail"]["counts"] == {"security.unknown_credential": 17}


def test_an_address_is_refused_until_its_minute_ends_and_others_never() -> None:
    limiter = ClientLimiter(limit_per_minute=3)
    for _ in range(3):
        assert limiter.retry_after("198.51.100.7", now=1_000) is None
        limiter.fail("198.51.100.7", now=1_000)
    assert limiter.retry_after("198.51.100.7", now=1_000) == 60
    assert limiter.retry_after("198.51.100.7", now=60_500) == 1
    assert limiter.retry_after("198.51.100.7", now=61_000) is None  # a new minute
    assert limiter.retry_after("198.51.100.8", now=1_000) is None  # another address
