"""A database handle: one writer and several readers on SQLite, one pool on PostgreSQL.

SQLite runs in WAL mode with a single writer connection, so writes queue in the process instead
of failing with "database is locked", while readers proceed in parallel. Every state change that
must happen once is a compare-and-set ``UPDATE ... WHERE status = 'pending'`` whose row count says
who won, which is correct on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from pushauth_server.storage.tables import metadata


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        """``connect_args`` go to the driver's connect call on PostgreSQL (e.g. asyncpg's
        ``server_settings``, to put each test in its own schema); SQLite ignores them."""
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=30)
            self._reader = create_async_engine(url, pool_size=4, max_overflow=4)
            for engine in (self._writer, self._reader):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self._writer = create_async_engine(
                url, pool_size=10, max_overflow=10, connect_args=connect_args or {}
            )
            self._reader = self._writer

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self._writer,) if self._reader is self._writer else (self._writer, self._reader)

    async def create_schema(self) -> None:
        async with self._writer.begin() as connection:
            await connection.run_sync(metadata.create_all)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the writer; committed on success, rolled back on error."""
        async with self._writer.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()
