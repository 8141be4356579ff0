"""The released database fixtures (tests/migrations/fixtures/, made by
scripts/migration_fixtures/make.sh with commit 7f053d1's own code), loaded into a test's database,
and row-by-row reads to compare them with."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.support.databases import Blank, pg_connect

FIXTURES = Path(__file__).with_name("fixtures")
RELEASE = "7f053d1"

# The release's tables, each with its primary key and columns (from its tables.py): what must
# survive an upgrade unchanged.
OLD_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "enrollment_tokens": (
        "token_hash",
        ("token_hash", "user_id", "created_at_ms", "expires_at_ms", "used_at_ms", "credential_id"),
    ),
    "credentials": (
        "credential_id",
        (
            "credential_id",
            "user_id",
            "name",
            "public_key",
            "created_at_ms",
            "last_used_at_ms",
            "revoked_at_ms",
        ),
    ),
    "challenges": (
        "challenge_id",
        (
            "challenge_id",
            "user_id",
            "action",
            "context_json",
            "nonce",
            "verification_code",
            "number_matching",
            "status",
            "reason",
            "created_at_ms",
            "expires_at_ms",
            "resolved_at_ms",
            "credential_id",
            "decision",
            "response_reason",
            "response_code",
            "signature",
        ),
    ),
    "request_nonces": ("nonce", ("nonce", "credential_id", "expires_at_ms")),
    "user_limits": (
        "user_id",
        (
            "user_id",
            "consecutive_failures",
            "locked_until_ms",
            "locked_not_me",
            "rate_strikes",
            "rate_blocked_until_ms",
            "window_start_ms",
        ),
    ),
    "audit_events": (
        "event_id",
        (
            "event_id",
            "at_ms",
            "event",
            "user_id",
            "credential_id",
            "challenge_id",
            "action",
            "context_json",
            "detail_json",
            "receipt_json",
        ),
    ),
}
# Columns later revisions added to those tables: NULL on every row the release wrote.
NEW_COLUMNS = {
    "enrollment_tokens": ("app_id",),
    "credentials": ("app_id",),
    "challenges": ("app_id",),
    "audit_events": ("seq", "prev_hash", "row_hash"),
}


def _sqlite_dump() -> str:
    return (FIXTURES / f"{RELEASE}.sqlite.sql").read_text()


def _postgres_dump(schema: str) -> str:
    """The dump of the release's ``public`` schema, into ``schema``."""
    lines = (FIXTURES / f"{RELEASE}.postgres.sql").read_text().splitlines()
    # The schema itself exists already (public) or is made below.
    dump = "\n".join(line for line in lines if not line.endswith(" SCHEMA public;"))
    dump = "\n".join(line for line in dump.splitlines() if "ON SCHEMA public" not in line)
    if schema == "public":
        return dump
    return f"CREATE SCHEMA {schema};\n" + dump.replace("public.", f"{schema}.")


def load_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(_sqlite_dump())
    connection.close()


async def load(blank: Blank, *, reference: Path) -> None:
    """The release's database into ``blank``, and an untouched copy to compare with: on SQLite
    the file ``reference``, on PostgreSQL the schema ``reference`` of the same database."""
    if blank.path is not None:
        load_sqlite(blank.path)
        load_sqlite(reference)
        return
    connection = await pg_connect(blank.url)
    try:
        await connection.execute(_postgres_dump("public"))
        await connection.execute(_postgres_dump("reference"))
    finally:
        await connection.close()


async def rows(
    blank: Blank, table: str, columns: tuple[str, ...], *, reference: Path | None = None
) -> list[tuple[Any, ...]]:
    """Every row of ``table`` (those ``columns``), in primary-key order; from the untouched copy
    when ``reference`` is given (on PostgreSQL: the ``reference`` schema)."""
    key = OLD_TABLES[table][0] if table in OLD_TABLES else columns[0]
    query = f"SELECT {', '.join(columns)} FROM {{table}} ORDER BY {key}"
    if blank.path is not None:
        path = reference if reference is not None else blank.path
        with sqlite3.connect(path) as connection:
            found = connection.execute(query.format(table=table)).fetchall()
        connection.close()
        return [tuple(row) for row in found]
    qualified = f"reference.{table}" if reference is not None else f"public.{table}"
    pg = await pg_connect(blank.url)
    try:
        records = await pg.fetch(query.format(table=qualified))
    finally:
        await pg.close()
    return [tuple(record) for record in records]
