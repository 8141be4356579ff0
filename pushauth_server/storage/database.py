"""A database handle: one writer and several readers on SQLite, one pool on PostgreSQL.

SQLite runs in WAL mode with a single writer connection, so writes queue in the process instead
of failing with "database is locked", while readers proceed in parallel. Every state change that
must happen once is a compare-and-set ``UPDATE ... WHERE status = 'pending'`` whose row count says
who won, which is correct on both databases.

SQLite statements run on the event loop's thread (:class:`_InlineSqlite`), not on aiosqlite's
worker thread per connection: an indexed lookup in a local file takes microseconds, while each of
aiosqlite's thread round trips (several per statement) costs far more in wake-ups and GIL hand-overs
— the benchmark measured it as most of the server's time per sign-in (docs/performance.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
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


class _InlineCursor:
    """An aiosqlite-shaped cursor whose awaitables complete at once, on the calling thread."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:  # description, rowcount, lastrowid, arraysize
        return getattr(self._cursor, name)

    async def execute(self, sql: str, parameters: Any = ()) -> _InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> Sequence[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _InlineTx:
    """Runs what SQLAlchemy's adapter queues for aiosqlite's worker (``_tx``) immediately."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


class _InlineSqlite:
    """The part of ``aiosqlite.Connection`` SQLAlchemy uses, on the event loop's own thread."""

    def __init__(self, database: str) -> None:
        self._conn = self._connection = sqlite3.connect(database, check_same_thread=False)
        self._tx = _InlineTx(self._conn)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def _inline_creator(database: str) -> Callable[[], Any]:
    async def connect() -> _InlineSqlite:
        return _InlineSqlite(database)

    return connect


class Database:
    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        """``connect_args`` go to the driver's connect call on PostgreSQL (e.g. asyncpg's
        ``server_settings``, to put each test in its own schema); SQLite ignores them."""
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            inline: dict[str, Any] = {}
            if parsed.database and parsed.database != ":memory:":
                path = Path(parsed.database).expanduser()
                path.parent.mkdir(parents=True, exist_ok=True)
                if not parsed.query:  # plain files only; URIs and options keep aiosqlite
                    inline["async_creator"] = _inline_creator(str(path))
            self._writer = create_async_engine(
                url, pool_size=1, max_overflow=0, pool_timeout=30, **inline
            )
            self._reader = create_async_engine(url, pool_size=4, max_overflow=4, **inline)
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
