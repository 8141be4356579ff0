"""Schema migrations: bring a database to the code's revision, or say how far behind it is.

The schema changes only through the Alembic revisions in ``storage/migrations/versions``. Three
kinds of database meet this module:

* **empty**: every revision runs, from the first (one path for new and old databases alike);
* **made before migrations existed** (pushauth tables, no ``alembic_version``): it is stamped
  ``0001_baseline`` (the last release's schema) and upgraded from there; the later revisions add
  only what such a database lacks;
* **versioned**: the revisions after its own run; a revision this code does not know (a database
  upgraded by newer code) is refused with :class:`DatabaseNewer`.

An upgrade is one transaction, under a lock that makes a second process wait for the first and
then find nothing left to do: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL. Before a SQLite file is upgraded, a copy is taken with SQLite's backup API, next to it
(mode 0600, named with the revision it holds and the time): restoring that file is the rollback.

Entry points: :func:`upgrade` and :func:`current` take a database URL (``pushauth serve`` calls
:func:`upgrade` once, before any worker starts; ``pushauth db upgrade`` / ``db current``);
:class:`~pushauth_server.storage.database.Database` runs :func:`upgrade_connection` and
:func:`state_of` on its own connections.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from pushauth_server.storage.database import Database

BASELINE = "0001_baseline"
"""The revision a database made before migrations is stamped with: the last release's schema."""
# Two processes starting at once on PostgreSQL: the second waits here, then finds the schema
# current. (The audit chain's lock, storage/audit_chain.py, is another key.)
MIGRATION_LOCK_KEY = 7_022_389_457_113_260_402
_SCRIPTS = Path(__file__).with_name("migrations")

__all__ = [
    "BASELINE",
    "DatabaseNewer",
    "MigrationError",
    "SchemaOutdated",
    "SchemaState",
    "UpgradeResult",
    "current",
    "describe_upgrade",
    "head",
    "state_of",
    "upgrade",
    "upgrade_connection",
]


class MigrationError(RuntimeError):
    """The schema cannot be brought to (or is not at) the code's revision."""


class DatabaseNewer(MigrationError):
    """The database carries a revision this code does not know: newer code upgraded it."""


class SchemaOutdated(MigrationError):
    """Start-up without migrating (``--no-migrate``) found a schema behind the code's."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SchemaState:
    """Where a database stands against the code's revisions."""

    current: str | None  # the stored revision; None: no alembic_version
    head: str  # the code's revision
    empty: bool  # no pushauth tables at all
    pending: tuple[str, ...]  # revisions an upgrade would run, in order
    known: bool = True  # False: a revision this code does not have (newer code upgraded it)

    @property
    def unversioned(self) -> bool:
        """Made by pushauth before migrations existed (tables, but no revision)."""
        return self.current is None and not self.empty

    @property
    def up_to_date(self) -> bool:
        return self.known and not self.pending

    @property
    def status(self) -> str:
        """``current``, ``behind``, ``empty`` or ``newer`` (than this code)."""
        if not self.known:
            return "newer"
        if self.empty:
            return "empty"
        return "behind" if self.pending else "current"

    def refusal(self) -> DatabaseNewer:
        """The error for a database this code cannot run on (``status == "newer"``)."""
        return DatabaseNewer(
            f"The database is at schema revision {self.current}, which this pushauth (whose "
            f"newest is {self.head}) does not have: a newer pushauth upgraded it. Run that newer "
            "version, or restore the backup taken before the upgrade (docs/operations.md, "
            '"Schema migrations").'
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class UpgradeResult:
    """What :func:`upgrade` did."""

    before: str | None  # the revision found (None: empty or made before migrations)
    after: str
    created: bool  # the database had no pushauth tables
    applied: tuple[str, ...]  # the revisions run, in order
    backup: Path | None  # SQLite: the copy taken before upgrading


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(_SCRIPTS))


def head() -> str:
    """The code's revision: the newest migration."""
    revision = _script().get_current_head()
    if revision is None:  # pragma: no cover - the package always ships its revisions
        raise MigrationError("no migrations found in " + str(_SCRIPTS))
    return revision


def _pending(since: str | None, target: str | None = None) -> tuple[str, ...]:
    revisions = _script().iterate_revisions(target or head(), since)
    return tuple(reversed([revision.revision for revision in revisions if revision is not None]))


def state_of(connection: Connection) -> SchemaState:
    """The schema's state, read on ``connection``."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise MigrationError(f"the database records several revisions ({', '.join(heads)})")
    stored = heads[0] if heads else None
    empty = stored is None and not inspect(connection).has_table("credentials")
    known = {revision.revision for revision in _script().walk_revisions()}
    if stored is not None and stored not in known:
        return SchemaState(current=stored, head=head(), empty=False, pending=(), known=False)
    if empty:
        return SchemaState(current=None, head=head(), empty=True, pending=_pending(None))
    if stored is None:  # made before migrations: its schema is the baseline's
        return SchemaState(current=None, head=head(), empty=False, pending=_pending(BASELINE))
    return SchemaState(current=stored, head=head(), empty=False, pending=_pending(stored))


def lock(connection: Connection) -> None:
    """Take the migration lock for the transaction ``connection`` is in (PostgreSQL; a SQLite
    writer already holds the database's write lock from ``BEGIN IMMEDIATE``)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def upgrade_connection(
    connection: Connection, *, sqlite_file: Path | None, target: str | None = None
) -> UpgradeResult:
    """Upgrade the schema to the code's revision (or ``target``, for tests) on ``connection``,
    inside the caller's transaction (the caller commits). ``sqlite_file``: the database file to
    back up first."""
    lock(connection)
    state = state_of(connection)
    if not state.known:
        raise state.refusal()
    before = state.current
    target = target or state.head
    if target != state.head:
        since = state.current or (None if state.empty else BASELINE)
        state = replace(state, head=target, pending=_pending(since, target))
    if not state.pending:
        return UpgradeResult(
            before=before, after=state.current or target, created=False, applied=(), backup=None
        )
    backup = None
    if sqlite_file is not None and not state.empty:
        backup = _backup(sqlite_file, label=before or "unversioned")
    try:
        if state.unversioned:
            MigrationContext.configure(connection).stamp(_script(), BASELINE)
        config = Config()
        config.set_main_option("script_location", str(_SCRIPTS))
        config.attributes["connection"] = connection
        command.upgrade(config, target)
    except DBAPIError as exc:
        if _not_the_schema(exc):  # unreachable or busy: said as such by the caller
            raise
        raise _failed(exc, state.pending, backup) from exc
    return UpgradeResult(
        before=before,
        after=state.head,
        created=state.empty,
        applied=state.pending,
        backup=backup,
    )


def _not_the_schema(exc: DBAPIError) -> bool:
    """A failure of the connection (lost, refused) or a SQLite file held by another process,
    rather than of a revision's statements."""
    from pushauth_server.storage.unreachable import is_unreachable

    reason = str(exc.orig).lower()
    return is_unreachable(exc) or "database is locked" in reason or "busy" in reason


def _failed(exc: DBAPIError, pending: tuple[str, ...], backup: Path | None) -> MigrationError:
    """A revision's statement failed: the transaction is rolled back, nothing changed."""
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    saved = f" The database as it was is also saved in {backup}." if backup else ""
    return MigrationError(
        f"The schema upgrade ({', '.join(pending)}) failed: {reason}. Nothing changed: the "
        f"upgrade is one transaction and was rolled back.{saved} Remove what is in the way "
        "(a table or index of the same name, made outside pushauth), then run: "
        "pushauth db upgrade"
    )


def _backup(database: Path, *, label: str) -> Path:
    """Copy the SQLite database (as committed, before this upgrade) next to it, mode 0600."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        target = database.with_name(f"{database.name}.backup-{label}-{stamp}{suffix}")
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        except OSError as exc:  # a directory the server may not write to, a name too long
            raise MigrationError(
                f"Could not save a copy of the database before upgrading it, as {target}: "
                f"{exc.strerror or exc}. Nothing changed. Let this user write to "
                f"{database.parent} (or copy the database yourself, somewhere it can), then "
                "run: pushauth db upgrade"
            ) from exc
        break
    else:  # pragma: no cover - a hundred backups within one second
        raise MigrationError(f"could not name a backup next to {database}")
    # Read through a connection of its own: SQLite refuses to back up from the connection that
    # holds the write transaction. The migration has written nothing yet, and its write lock
    # keeps every other writer out, so this reads the database exactly as it is now.
    source = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


# --- by URL: for `pushauth serve` (before any worker starts) and `pushauth db` ------------------


def upgrade(database_url: str, *, connect_args: dict[str, Any] | None = None) -> UpgradeResult:
    """Upgrade the database at ``database_url`` to the code's revision (see the module doc)."""

    async def run() -> UpgradeResult:
        database = _database(database_url, connect_args)
        try:
            return await database.upgrade_schema()
        finally:
            await database.dispose()

    return asyncio.run(run())


def current(database_url: str, *, connect_args: dict[str, Any] | None = None) -> SchemaState:
    """The revision the database at ``database_url`` is at, and what an upgrade would run.
    Reads only: a SQLite file is opened read-only (not even its journal mode changes)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").expanduser().resolve()
        if not path.exists():  # a file not made yet: an empty database
            return SchemaState(current=None, head=head(), empty=True, pending=_pending(None))
        engine = create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True),
        )
        try:
            with engine.connect() as connection:
                return state_of(connection)
        finally:
            engine.dispose()

    async def run() -> SchemaState:
        database = _database(database_url, connect_args)
        try:
            return await database.schema_state()
        finally:
            await database.dispose()

    return asyncio.run(run())


def _database(url: str, connect_args: dict[str, Any] | None) -> Database:
    from pushauth_server.storage.database import Database

    return Database(url, connect_args=connect_args)


def describe_upgrade(result: UpgradeResult) -> str:
    """One line saying what an upgrade did, for the log and the CLI."""
    if not result.applied:
        return f"database schema is current ({result.after})"
    if result.created:
        return f"created the database schema ({result.after})"
    line = (
        f"upgraded the database schema from {result.before or 'before migrations'} to "
        f"{result.after} ({', '.join(result.applied)})"
    )
    if result.backup is not None:
        line += f"; the database as it was is saved in {result.backup}"
    return line
