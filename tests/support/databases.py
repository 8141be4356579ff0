"""A database with no tables yet, on SQLite (a real file) and PostgreSQL (a database of its own,
so a real ``pushauth serve`` can be pointed at it by URL alone).

For the migration tests, which build old schemas and upgrade them; the usual ``database``
fixture (tests/server/test_storage.py) gives one already at the code's revision.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from pushauth_server.storage import Database
from tests.conftest import POSTGRES_URL


@dataclass
class Blank:
    database: Database
    url: str
    path: Path | None = None  # SQLite: the file

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def open(self) -> Database:
        """Another handle on the same database (the caller disposes of it)."""
        return Database(self.url)


def _dsn(url: str) -> str:
    """An asyncpg DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def pg_connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_dsn(url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def blank(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Blank]:
    if request.param == "sqlite":
        path = tmp_path / "pushauth.db"
        url = f"sqlite:///{path}"
        blank = Blank(Database(url), url, path=path)
        try:
            yield blank
        finally:
            await blank.database.dispose()
        return
    name = "pushauth_mig_" + secrets.token_hex(6)
    try:
        admin = await pg_connect(POSTGRES_URL)
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        blank = Blank(Database(url), url)
        try:
            yield blank
        finally:
            await blank.database.dispose()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
