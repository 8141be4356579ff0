"""``pushauth init`` and ``pushauth serve``."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from pushauth_cli.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_URL,
    ENV_FILE,
    env_file_has_api_key,
    write_env_file,
)
from pushauth_cli.exit_codes import ExitCode
from pushauth_cli.options import check_url
from pushauth_cli.render import err, fail


def init(
    url: Annotated[
        str,
        typer.Option(help="The server URL the CLI will use.", metavar="URL", callback=check_url),
    ] = DEFAULT_URL,
    database_url: Annotated[
        str, typer.Option(help="SQLAlchemy URL of the server's database.", metavar="URL")
    ] = DEFAULT_DATABASE_URL,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing API key.")] = False,
) -> None:
    """Write ./.env with a fresh API key, the server URL and the database URL.

    The file is written in the current directory, mode 0600; every command reads it from there.
    """
    if env_file_has_api_key() and not force:
        fail(
            f"{ENV_FILE.resolve()} already has an API key.",
            "Keep it, or run `pushauth init --force` to replace it (relying parties must update).",
        )
        raise typer.Exit(ExitCode.NOT_DONE)
    write_env_file(url=url, database_url=database_url)
    err.print(f"[green]Wrote {ENV_FILE.resolve()}[/] (mode 0600) with a new API key.")
    err.print("Next: [bold]pushauth serve[/]")


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default 127.0.0.1).", metavar="HOST")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind (default 8300).", metavar="PORT")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database URL (default: SQLite file ./pushauth.db).", metavar="URL"),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="The origin devices see, if not http://HOST:PORT.", metavar="URL"),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Log level (debug, info, warning, error).", metavar="LEVEL")
    ] = "info",
    log_format: Annotated[
        str | None,
        typer.Option(
            help="Log lines as text (key=value) or json (one object per line); default "
            "PUSHAUTH_LOG_FORMAT, else text.",
            metavar="json|text",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port. Above 1 needs PostgreSQL and "
            "PUSHAUTH_CHANNELS_BACKEND=redis (see docs/operations.md).",
            metavar="N",
        ),
    ] = 1,
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate",
            help="Do not upgrade an older database schema at start: refuse to start instead "
            "(then run `pushauth db upgrade`).",
        ),
    ] = False,
) -> None:
    """Run the server, with ./.env and ./pushauth.db in the current directory.

    In a directory without .env it writes one with a new API key (as `init` does) and starts on
    a new empty database, and says so: run it where your .env is to keep your users and devices.

    An older database schema is upgraded first (a SQLite file is copied next to itself before;
    the copy's name is printed), unless --no-migrate is given.
    """
    if log_format is not None and log_format not in ("json", "text"):
        fail(f"--log-format must be json or text, not {log_format!r}.", "Use --log-format json.")
        raise typer.Exit(ExitCode.USAGE)
    if not os.environ.get("PUSHAUTH_API_KEY"):
        if ENV_FILE.exists():
            # Never rewrite a .env someone configured: its other settings (the public URL, the
            # database) would be lost with it.
            fail(
                f"{ENV_FILE.resolve()} exists but sets no PUSHAUTH_API_KEY.",
                "Add one (`pushauth init --force` writes a fresh .env) or set PUSHAUTH_API_KEY.",
            )
            raise typer.Exit(ExitCode.NOT_DONE)
        bind_host = host or "127.0.0.1"
        bind_port = port or 8300
        write_env_file(
            url=f"http://{bind_host}:{bind_port}",
            database_url=database_url
            or os.environ.get("PUSHAUTH_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
        )
        err.print(
            f"[yellow]No .env in {Path.cwd()}: creating a new one, {ENV_FILE.resolve()}, "
            "with a new API key (as `pushauth init` does).[/] If you meant to use an existing "
            "server's data, stop (Ctrl-C) and run `pushauth serve` in its directory."
        )

    from pushauth_server.observability import logs
    from pushauth_server.settings import Settings

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "database_url": database_url,
        "public_url": public_url,
        "log_format": log_format,
    }
    settings = Settings.load(**overrides)
    logs.configure(settings.log_format, log_level)
    if workers > 1:
        _check_workers_possible(settings, workers)
    new_database = _new_sqlite_file(settings.database_url)
    if new_database is not None:
        err.print(f"[yellow]No database at {new_database}: creating a new, empty one.[/]")
    listening = _bind(settings.host, settings.port)
    _prepare_schema(settings.database_url, migrate=not no_migrate)
    served = (
        f"pushauth serving on [bold]http://{settings.host}:{settings.port}[/] "
        f"(origin {settings.origin}, database {_safe_url(settings.database_url)}"
    )
    if workers > 1:
        _serve_workers(settings, overrides, log_level, workers, listening, served)
        return

    from pushauth_cli.serving import server_for
    from pushauth_server.app import create_app

    app = create_app(settings)
    err.print(served + ")")
    server_for(app, settings, log_level).run(sockets=[listening])


def _check_workers_possible(settings: Any, workers: int) -> None:
    """Several workers share state only through PostgreSQL and Redis: refuse anything else."""
    from sqlalchemy.engine import make_url

    problems = []
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        problems.append(
            "the database is SQLite (one writer process per file): use PostgreSQL, "
            "e.g. --database-url postgresql+asyncpg://pushauth@db/pushauth"
        )
    if settings.channels_backend != "redis":
        problems.append(
            "events and request nonces are kept in memory (PUSHAUTH_CHANNELS_BACKEND=memory): "
            "set PUSHAUTH_CHANNELS_BACKEND=redis, PUSHAUTH_REDIS_URL and PUSHAUTH_SECRET"
        )
    if problems:
        fail(
            f"--workers {workers} needs every worker to share the same state, but "
            + "; and ".join(problems)
            + ".",
            "Run with --workers 1 (the default), or configure PostgreSQL and Redis "
            '(docs/operations.md, "Several workers").',
        )
        raise typer.Exit(ExitCode.USAGE)


def _serve_workers(
    settings: Any,
    overrides: dict[str, Any],
    log_level: str,
    workers: int,
    listening: socket.socket,
    served: str,
) -> None:
    from pushauth_cli.serving import READY_LINE
    from pushauth_cli.workers import Supervisor, WorkerSpec
    from pushauth_server.realtime import MissingSecret, backend_for

    try:
        backend_for(settings)  # the Redis secret is checked here, once, not in every worker
    except MissingSecret as exc:
        fail(str(exc))
        raise typer.Exit(ExitCode.USAGE) from None

    err.print(served + f", {workers} workers)")

    def announce(pids: list[int]) -> None:
        err.print(
            f"{READY_LINE} http://{settings.host}:{settings.port} "
            f"({workers} workers: pids {', '.join(str(pid) for pid in pids)})",
            soft_wrap=True,
        )

    spec = WorkerSpec(overrides=overrides, log_level=log_level)
    code = Supervisor(spec, workers, listening).run(announce)
    if code:
        fail("The workers could not start (see the lines above).")
        raise typer.Exit(ExitCode.NOT_DONE)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is a clear message with a way out."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"Port {port} on {host} is already in use (another `pushauth serve`?).",
                f"Stop the other server, or pick another port: pushauth serve --port {port + 1} "
                f"(and set PUSHAUTH_URL=http://{host}:{port + 1} for the CLI).",
            )
        else:
            fail(f"Cannot listen on {host}:{port}: {exc.strerror}.", "Check --host and --port.")
        raise typer.Exit(ExitCode.NOT_DONE) from None
    listening.set_inheritable(True)
    return listening


def _prepare_schema(database_url: str, *, migrate: bool) -> None:
    """Bring the schema to this code's revision, once, before the app (and any worker) starts;
    with ``migrate=False`` refuse to start on an older one, saying what to run."""
    from pushauth_cli.commands.database import database_errors
    from pushauth_server.storage import migrate as migrations

    with database_errors(database_url):
        if migrate:
            result = migrations.upgrade(database_url)
            if result.applied and not result.created:
                err.print(f"[yellow]{escape(migrations.describe_upgrade(result))}[/]")
            return
        state = migrations.current(database_url)
        if state.status == "newer":
            raise state.refusal()
    if state.status == "behind":
        fail(
            f"The database schema is at {state.current or 'a revision from before migrations'}; "
            f"this pushauth needs {state.head} (--no-migrate: not upgrading it).",
            "Run `pushauth db upgrade` (it backs up a SQLite file first; on PostgreSQL take a "
            "pg_dump before), then start again; or start without --no-migrate.",
        )
        raise typer.Exit(ExitCode.NOT_DONE)


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names, when it does not exist yet (``None`` otherwise)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    path = Path(parsed.database).resolve()
    return None if path.exists() else path


def _safe_url(url: str) -> str:
    """A database URL fit to print: the password, if any, masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
