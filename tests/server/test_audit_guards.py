"""The audit table's guards hold (issue 10, item 4): start-up refuses a database whose triggers
were dropped or disabled; a database from before the hash chain (the release's schema, built by
the baseline migration) is upgraded and its old rows are "before the chain", not tampering; on
PostgreSQL, the least-privilege roles of docs/operations.md keep the application's own role from
truncating, rewriting or unguarding it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from pushauth_server.domain.audit import origins, verify
from pushauth_server.realtime import MemoryBackend, Notifier
from pushauth_server.services import Services
from pushauth_server.storage import Database
from pushauth_server.storage.audit_guard import AuditTriggersMissing
from pushauth_server.storage.migrate import BASELINE
from tests.conftest import POSTGRES_URL
from tests.server.conftest import API_KEY, fresh_user
from tests.server.test_storage import ORIGIN, Stack, create, database, enroll, respond  # noqa: F401
from tests.support.databases import Blank, blank  # noqa: F401
from tests.support.settings import TestSettings


async def _execute(db: Database, *statements: str) -> None:
    async with db.write() as connection:
        for statement in statements:
            await connection.execute(text(statement))


async def test_start_up_refuses_a_dropped_trigger(database: Database) -> None:
    if database.is_sqlite:
        await _execute(database, "DROP TRIGGER audit_events_no_delete")
    else:
        await _execute(database, "DROP TRIGGER audit_events_chain ON audit_events")
    with pytest.raises(AuditTriggersMissing, match="missing: audit_events_"):
        await database.create_schema()


@pytest.mark.postgres
async def test_start_up_refuses_a_disabled_trigger(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite triggers cannot be disabled")
    await _execute(database, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    with pytest.raises(AuditTriggersMissing, match="disabled: audit_events_no_change"):
        await database.create_schema()


async def test_a_database_from_before_the_chain_is_upgraded(blank: Blank) -> None:
    """Old rows are counted as before the chain; new rows chain after them; origins seeded."""
    database = blank.database
    await database.upgrade_schema(target=BASELINE)  # the release's schema, before the chain
    receipt = {"origin": "https://old.example.test", "decision": "approve"}
    async with database.write() as connection:
        for n in range(3):
            await connection.execute(
                text(
                    "INSERT INTO audit_events (at_ms, event, user_id, receipt_json) "
                    "VALUES (:at, 'enrollment.token_issued', 'old', :receipt)"
                ),
                {"at": n + 1, "receipt": json.dumps(receipt) if n == 0 else None},
            )
    assert await database.create_schema() is False  # upgraded in place, not created
    assert await origins.register(database, ORIGIN)
    async with database.read() as connection:
        known = await origins.known(connection)
        report = await verify.run(connection, current_origin=ORIGIN)
    assert set(known) == {ORIGIN, "https://old.example.test"}
    chain = [p.problem for p in report.problems if p.where.startswith("audit seq")]
    assert chain == []
    assert report.chain.before_chain == 3
    assert report.chain.rows == 2
    await database.create_schema()  # a second start finds everything in place


# --- PostgreSQL: least privilege ----------------------------------------------------------------


@pytest.fixture
async def app_role() -> AsyncIterator[tuple[Database, Database]]:
    """An owner-created schema and a second, real login role with the rights operations.md
    grants the application; yields (owner's database, application's database)."""
    role = "pushauth_app_" + secrets.token_hex(4)
    schema = "pushauth_lp_" + secrets.token_hex(4)
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            await connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    except OSError as exc:
        await admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    path = {"server_settings": {"search_path": schema}}
    owner = Database(POSTGRES_URL, connect_args=path)
    app_url = make_url(POSTGRES_URL).set(username=role).render_as_string(hide_password=False)
    app = Database(app_url, connect_args=path)
    try:
        await owner.create_schema()
        await _execute(
            owner,
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'REVOKE UPDATE, DELETE ON audit_events FROM "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        )
        yield owner, app
    finally:
        await app.dispose()
        await owner.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await connection.execute(text(f'DROP OWNED BY "{role}"'))
            await connection.execute(text(f'DROP ROLE "{role}"'))
        await admin.dispose()


@pytest.mark.postgres
async def test_the_application_role_can_run_but_not_rewrite_the_audit_trail(
    app_role: tuple[Database, Database],
) -> None:
    _, app = app_role
    await app.create_schema()  # start-up as the application role: the triggers are checked
    await origins.register(app, ORIGIN)
    config = TestSettings(api_key=API_KEY, database_url=app.url, public_url=ORIGIN)
    notifier = Notifier(MemoryBackend())
    await notifier.start()
    try:
        services = Services.build(config, app, notifier)
        user = fresh_user()
        device = await enroll(services, user)
        challenge = await create(services, user)
        await respond(services, device, challenge)
    finally:
        await notifier.stop()
    for statement in (
        "TRUNCATE audit_events",
        "UPDATE audit_events SET event = 'x'",
        "DELETE FROM audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
        "DROP TRIGGER audit_events_chain ON audit_events",
        "DROP TABLE audit_events",
    ):
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            await _execute(app, statement)
    async with app.read() as connection:
        report = await verify.run(connection, current_origin=ORIGIN)
    assert report.valid, report.problems
