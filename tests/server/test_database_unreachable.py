"""A database that goes away (issue 10, item 7): before the commit, 503 ``server_busy`` with
``Retry-After``, never 500; the pool reconnects by itself; an audit row that cannot be written
is kept and written once the database is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from pushauth_server.storage import Database, tables
from tests.conftest import POSTGRES_URL
from tests.server.conftest import assert_error, running_harness
from tests.server.test_budget import clean_env, postgres_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres

BAD_KEY = {"Authorization": "Bearer pak_wrong-" + "x" * 40}


async def _terminate(url: str) -> int:
    """``pg_terminate_backend`` every connection to ``url``'s database; how many there were."""
    name = make_url(url).database
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            return int(result.scalar_one())
    finally:
        await admin.dispose()


async def _events(url: str, event: str) -> int:
    db = Database(url)
    try:
        async with db.read() as connection:
            rows = await connection.execute(
                select(tables.audit_events.c.event_id).where(tables.audit_events.c.event == event)
            )
            return len(list(rows))
    finally:
        await db.dispose()


async def test_terminated_connections_answer_503_then_recover(
    tmp_path: Path,
    postgres_url: str,
    clean_env: None,
) -> None:
    async with running_harness(tmp_path, database_url=postgres_url) as harness:
        device = await harness.enroll()
        body = {"user_id": device.user_id}
        await harness.db.dispose()  # the test's own connections are not the app's
        assert await _terminate(postgres_url) >= 1
        first = await harness.rp("POST", "/v1/challenges", json=body)
        assert_error(first, 503, "server_busy")
        assert int(first.headers["Retry-After"]) >= 1
        again = await harness.rp("POST", "/v1/challenges", json=body)
        assert again.status_code == 201, again.text
        pending = await harness.rp("GET", f"/v1/challenges/{again.json()['challenge_id']}")
        assert pending.json()["status"] == "pending"
    assert await _events(postgres_url, "challenge.created") == 1


async def test_an_audit_row_refused_by_a_lost_connection_is_written_later(
    tmp_path: Path,
    postgres_url: str,
    clean_env: None,
) -> None:
    async with running_harness(tmp_path, database_url=postgres_url) as harness:
        assert (await harness.rp("GET", "/v1/audit")).status_code == 200
        await harness.db.dispose()
        assert await _terminate(postgres_url) >= 1
        refused = await harness.client.get("/v1/audit", headers=BAD_KEY)
        assert_error(refused, 401, "invalid_api_key")  # the refusal stands; its row waits
        assert harness.services.audit.kept == 1
    # At shutdown the kept row is written (the database is reachable again).
    assert await _events(postgres_url, "security.invalid_api_key") == 1
