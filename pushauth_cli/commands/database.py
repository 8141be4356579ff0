"""``pushauth db upgrade`` and ``pushauth db current``: the database schema's revision.

``pushauth serve`` upgrades by itself at start; these are for doing it beforehand (a deployment
step, ``serve --no-migrate``) and for looking. Both read the database URL exactly as ``serve``
does: ``--database-url``, else ``PUSHAUTH_DATABASE_URL`` (environment, then ./.env).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from pushauth_cli.commands.server import _new_sqlite_file, _safe_url
from pushauth_cli.exit_codes import ExitCode
from pushauth_cli.help import Command
from pushauth_cli.options import DatabaseUrl, Json
from pushauth_cli.render import err, fail, out, print_json

if TYPE_CHECKING:
    from pushauth_server.storage.migrate import SchemaState, UpgradeResult

app = typer.Typer(
    name="db",
    help="The database schema: upgrade it to this pushauth's revision, or show its revision. "
    "`pushauth serve` upgrades at start by itself (after a backup on SQLite) unless given "
    "--no-migrate.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def resolve_url(database_url: str | None) -> str:
    """The database URL as ``serve`` resolves it: the flag, the environment, ./.env, default."""
    from pushauth_server.settings import Settings

    return Settings.load(database_url=database_url).database_url


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """The database's refusals as messages that say what to do, and documented exit codes."""
    from sqlalchemy.exc import DBAPIError

    from pushauth_server.errors import ServerBusy
    from pushauth_server.storage.migrate import MigrationError

    try:
        yield
    except MigrationError as exc:
        fail(str(exc))
        raise typer.Exit(ExitCode.NOT_DONE) from None
    except ServerBusy as exc:  # SQLite: another process held the write lock throughout
        fail(str(exc), "Another process is writing to the database (or upgrading it).")
        raise typer.Exit(ExitCode.NOT_DONE) from None
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if url.startswith("sqlite") and ("locked" in reason or "busy" in reason):
            fail(
                "The database is locked by another process; nothing changed.",
                "Another process is writing to the database (or upgrading it): retry when it "
                "is done.",
            )
            raise typer.Exit(ExitCode.NOT_DONE) from None
        fail(
            f"Could not reach the database {_safe_url(url)}: {reason}",
            "Check --database-url / PUSHAUTH_DATABASE_URL, and that the database is running.",
        )
        raise typer.Exit(ExitCode.UNREACHABLE) from None


def state_json(state: SchemaState) -> dict[str, Any]:
    return {
        "current": state.current,
        "head": state.head,
        "status": state.status,
        "pending": list(state.pending),
        "made_before_migrations": state.unversioned,
    }


@app.command(cls=Command)
def upgrade(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Upgrade the database schema to this pushauth's revision (no-op when it is current).

    One transaction: it all applies or none of it does. A SQLite file is first copied next to
    itself (mode 0600, named with its revision and the time); restoring that copy is the way
    back. On PostgreSQL take a pg_dump first. A database upgraded by a newer pushauth is refused
    (exit 7). Exit 6 when the database cannot be reached.
    """
    from pushauth_server.storage import migrate

    url = resolve_url(database_url)
    with database_errors(url):
        result: UpgradeResult = migrate.upgrade(url)
    if json:
        print_json(
            {
                "before": result.before,
                "after": result.after,
                "applied": list(result.applied),
                "created": result.created,
                "backup": str(result.backup) if result.backup else None,
            }
        )
        return
    out.print(f"{_safe_url(url)}: {migrate.describe_upgrade(result)}", markup=False)


@app.command(cls=Command)
def current(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Show the database schema's revision, this pushauth's, and what an upgrade would run.

    Status: current, behind (run `pushauth db upgrade`, or let `pushauth serve` do it), empty
    (no pushauth tables yet), or newer (upgraded by a newer pushauth: this one will not start on
    it). Changes nothing. Exit 7 when the SQLite file does not exist, 6 when the database cannot
    be reached.
    """
    from pushauth_server.storage import migrate

    url = resolve_url(database_url)
    missing = _new_sqlite_file(url)
    if missing is not None:
        fail(f"No database at {missing}.", "Check --database-url / PUSHAUTH_DATABASE_URL.")
        raise typer.Exit(ExitCode.NOT_DONE)
    with database_errors(url):
        state = migrate.current(url)
    if json:
        print_json(state_json(state))
        return
    revision = state.current or ("none (empty)" if state.empty else "none (made before migrations)")
    out.print(f"database: {_safe_url(url)}", markup=False)
    out.print(f"revision: {revision}", markup=False)
    out.print(f"this pushauth: {state.head}", markup=False)
    if state.status == "newer":
        err.print(str(state.refusal()), style="yellow", markup=False)
    elif state.pending:
        out.print(f"behind: `pushauth db upgrade` would run {', '.join(state.pending)}")
    else:
        out.print("up to date")
