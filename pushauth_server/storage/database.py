"""A database handle: one writer and several readers on SQLite, one pool on PostgreSQL.

Services see one small interface, :class:`Connection` (``await connection.execute(...)``), on both
databases. Every state change that must happen once is a compare-and-set ``UPDATE ... WHERE status
= 'pending'`` whose row count says who won, which is correct on both.

**PostgreSQL** runs on SQLAlchemy's asyncio engine (asyncpg).

**SQLite** runs on SQLAlchemy's ordinary (synchronous) engine with the standard library's
``sqlite3``, called on the event loop's own thread: an indexed lookup in a local file takes
microseconds, far less than handing each statement to a worker thread and back (what aiosqlite
does; the benchmark measured those round trips as most of the server's time per sign-in). Two
rules keep that from ever blocking the loop:

* SQLite never waits for a lock inside a call (``busy_timeout = 0``). A write transaction starts
  with ``BEGIN IMMEDIATE``, which takes the write lock at once or fails with "database is locked";
  then this module waits *asynchronously* (``asyncio.sleep``, growing steps) and tries again, for
  at most ``lock_timeout`` seconds, after which the request is answered ``503 server_busy``. Once
  ``BEGIN IMMEDIATE`` succeeded, no other writer can interfere until the commit. So a lock held by
  another process (a backup, an operator's ``sqlite3`` shell) delays writes; it never freezes
  ``/health``, open streams or reads (WAL readers do not wait for writers).
* Connections are handed out under asyncio primitives (a lock for the one writer, a semaphore for
  the readers) sized to the pools, so checking one out never blocks the thread either.

The driver-level transaction control (``isolation_level = None``, ``BEGIN`` issued by us) is the
recipe SQLAlchemy documents for pysqlite ("Serializable isolation / Savepoints / Transactional
DDL" in the SQLite dialect docs); nothing here depends on another library's private attributes.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection as SyncConnection
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.base import Executable

from pushauth_server import errors
from pushauth_server.storage import audit_guard, migrate
from pushauth_server.storage.audit_chain import register_sqlite_function
from pushauth_server.storage.unreachable import busy_when_unreachable

READERS = 8  # SQLite reader connections (and concurrent read transactions)
POOL_TIMEOUT_SECONDS = 30.0  # waiting longer than this for a connection: 503 server_busy


class Connection(Protocol):
    """What services use of a database connection, on SQLite and PostgreSQL alike."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...


def _is_busy(exc: OperationalError) -> bool:
    orig = exc.orig
    return isinstance(orig, sqlite3.OperationalError) and (
        "locked" in str(orig) or "busy" in str(orig)
    )


def _busy(what: str) -> errors.ServerBusy:
    return errors.ServerBusy(
        f"The database is locked by another process ({what}); nothing changed. Retry shortly.",
        retry_after_seconds=1,
    )


async def _retrying_busy(call: Any, deadline: float, what: str) -> Any:
    """Run ``call()`` until SQLite stops answering "locked", waiting asynchronously between."""
    delay = 0.001
    while True:
        try:
            return call()
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise _busy(what) from exc
        except sqlite3.OperationalError as exc:  # raw driver calls (BEGIN IMMEDIATE)
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise _busy(what) from exc
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


class _InlineConnection:
    """A :class:`Connection` over a synchronous SQLite connection, run on the calling thread."""

    __slots__ = ("_connection", "_lock_timeout")

    def __init__(self, connection: Any, lock_timeout: float) -> None:
        self._connection = connection
        self._lock_timeout = lock_timeout

    @property
    def dialect(self) -> Dialect:
        dialect: Dialect = self._connection.dialect
        return dialect

    def _run(self, statement: Executable, parameters: Any) -> CursorResult[Any]:
        result: CursorResult[Any] = self._connection.execute(statement, parameters)
        # Every caller reads its rows at once (first, one, all, scalar, a list comprehension);
        # a result dropped unread closes its cursor as it is released.
        return result

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        try:
            return self._run(statement, parameters)
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
        deadline = time.monotonic() + self._lock_timeout
        result: CursorResult[Any] = await _retrying_busy(
            lambda: self._run(statement, parameters), deadline, "statement"
        )
        return result


async def _acquire(primitive: asyncio.Lock | asyncio.Semaphore) -> None:
    """Wait (asynchronously) for a connection slot; too long a wait is overload: 503."""
    try:
        async with asyncio.timeout(POOL_TIMEOUT_SECONDS):
            await primitive.acquire()
    except TimeoutError:
        raise errors.ServerBusy(
            "The server is too busy to take this request now; retry in a moment.",
            retry_after_seconds=1,
        ) from None


def _sqlite_connect(dbapi_connection: Any, _: Any) -> None:
    # Transactions are ours to begin (BEGIN IMMEDIATE for writers); reads are autocommit.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")  # never wait inside a call: see the module docstring
    cursor.execute("PRAGMA recursive_triggers=ON")  # REPLACE fires delete triggers too
    cursor.close()
    register_sqlite_function(dbapi_connection)  # the audit hash chain (storage/audit_chain.py)


def create_private(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives -wal/-shm its mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class Database:
    def __init__(
        self,
        url: str,
        *,
        connect_args: dict[str, Any] | None = None,
        lock_timeout: float = 5.0,
    ) -> None:
        """``connect_args`` go to the driver's connect call on PostgreSQL (e.g. asyncpg's
        ``server_settings``, to put each test in its own schema); SQLite ignores them.
        ``lock_timeout``: how long a SQLite write waits for a lock held by another process."""
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.lock_timeout = lock_timeout
        self._sqlite: tuple[Engine, Engine] | None = None
        self._async: AsyncEngine | None = None
        self._sqlite_file: Path | None = None  # a SQLite file (not memory): backed up first
        if self.is_sqlite:
            sync_url = parsed.set(drivername="sqlite+pysqlite")
            memory = not parsed.database or parsed.database == ":memory:"
            if memory:  # one shared connection: each new one would be another empty database
                writer = create_engine(sync_url, poolclass=StaticPool, hide_parameters=True)
                reader = writer
                self._readers = asyncio.Semaphore(1)
            else:
                self._sqlite_file = Path(parsed.database or "").expanduser().resolve()
                create_private(self._sqlite_file)
                writer = create_engine(sync_url, pool_size=1, max_overflow=0, hide_parameters=True)
                reader = create_engine(
                    sync_url, pool_size=READERS, max_overflow=0, hide_parameters=True
                )
                self._readers = asyncio.Semaphore(READERS)
            self._writer_lock = asyncio.Lock()
            for engine in {writer, reader}:
                event.listen(engine, "connect", _sqlite_connect)
            self._sqlite = (writer, reader)
        else:
            self._async = create_async_engine(
                url,
                pool_size=10,
                max_overflow=10,
                connect_args=connect_args or {},
                hide_parameters=True,
            )

    @property
    def sync_engines(self) -> tuple[Engine, ...]:
        """The engines' synchronous cores, for SQLAlchemy events (statement and checkout counts)."""
        if self._sqlite is not None:
            writer, reader = self._sqlite
            return (writer,) if reader is writer else (writer, reader)
        assert self._async is not None
        return (self._async.sync_engine,)

    async def create_schema(self) -> bool:
        """At start-up: upgrade the schema to the code's revision (storage/migrate.py), then
        refuse to go on unless the audit guard triggers are in place; True when the database
        had no pushauth tables before."""
        result = await self.upgrade_schema(check_triggers=True)
        return result.created

    async def upgrade_schema(
        self, *, check_triggers: bool = False, target: str | None = None
    ) -> migrate.UpgradeResult:
        """Run the migrations this database lacks (one transaction, under the migration lock;
        a SQLite file is backed up first). Raises :class:`migrate.DatabaseNewer`, and with
        ``check_triggers`` :class:`audit_guard.AuditTriggersMissing`. ``target``: stop at that
        revision (tests build older schemas with it)."""

        def run(connection: SyncConnection) -> migrate.UpgradeResult:
            result = migrate.upgrade_connection(
                connection, sqlite_file=self._sqlite_file, target=target
            )
            if check_triggers:
                audit_guard.check_triggers(connection)
            return result

        if self._sqlite is not None:
            async with self._sqlite_write() as sync_connection:
                return run(sync_connection)
        assert self._async is not None
        async with self._async.begin() as connection:
            result: migrate.UpgradeResult = await connection.run_sync(run)
            return result

    async def schema_state(self) -> migrate.SchemaState:
        """The schema's revision against the code's (``pushauth db current``, ``--no-migrate``)."""
        if self._sqlite is not None:
            await _acquire(self._readers)
            try:
                with self._sqlite[1].connect() as sync_connection:
                    return migrate.state_of(sync_connection)
            finally:
                self._readers.release()
        assert self._async is not None
        async with self._async.connect() as connection:
            state: migrate.SchemaState = await connection.run_sync(migrate.state_of)
            return state

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """A transaction on the writer; committed on success, rolled back on error."""
        if self._sqlite is None:
            assert self._async is not None
            async with busy_when_unreachable(), self._async.begin() as connection:
                yield connection
            return
        async with self._sqlite_write() as sync_connection:
            yield _InlineConnection(sync_connection, self.lock_timeout)

    @asynccontextmanager
    async def _sqlite_write(self) -> AsyncIterator[SyncConnection]:
        """The SQLite writer inside ``BEGIN IMMEDIATE``, taken without blocking the loop."""
        assert self._sqlite is not None
        await _acquire(self._writer_lock)
        try:
            with self._sqlite[0].connect() as connection:
                raw: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
                deadline = time.monotonic() + self.lock_timeout
                await _retrying_busy(lambda: raw.execute("BEGIN IMMEDIATE"), deadline, "write")
                try:
                    yield connection
                except BaseException:
                    raw.rollback()
                    raise
                raw.commit()
        finally:
            self._writer_lock.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A connection for reads (each statement sees what was committed before it)."""
        if self._sqlite is None:
            assert self._async is not None
            async with busy_when_unreachable(), self._async.connect() as connection:
                yield connection
            return
        await _acquire(self._readers)
        try:
            with self._sqlite[1].connect() as connection:
                yield _InlineConnection(connection, self.lock_timeout)
        finally:
            self._readers.release()

    async def dispose(self) -> None:
        if self._sqlite is not None:
            for engine in self.sync_engines:
                engine.dispose()
        elif self._async is not None:
            await self._async.dispose()
