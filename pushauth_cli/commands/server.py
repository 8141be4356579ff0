"""``pushauth init`` and ``pushauth serve``."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer
import uvicorn

from pushauth_cli.config import DEFAULT_URL, ENV_FILE, env_file_has_api_key, write_env_file
from pushauth_cli.render import err, fail
from pushauth_server.connections import connection_limits, guarded_protocol
from pushauth_server.settings import DEFAULT_DATABASE_URL

READY_LINE = "pushauth ready on"


def init(
    url: Annotated[str, typer.Option(help="The server URL the CLI will use.")] = DEFAULT_URL,
    database_url: Annotated[
        str, typer.Option(help="SQLAlchemy URL of the server's database.")
    ] = DEFAULT_DATABASE_URL,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing API key.")] = False,
) -> None:
    """Write ./.env with a fresh API key, the server URL and the database path."""
    if env_file_has_api_key() and not force:
        fail(
            f"{ENV_FILE} already has an API key.",
            "Keep it, or run `pushauth init --force` to replace it (relying parties must update).",
        )
        raise typer.Exit(1)
    write_env_file(url=url, database_url=database_url)
    err.print(f"[green]Wrote {ENV_FILE.resolve()}[/] (mode 0600) with a new API key.")
    err.print("Next: [bold]pushauth serve[/]")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default 8300).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite file ./pushauth.db).")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The origin devices see, if not http://HOST:PORT.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the pushauth server. On a fresh machine it runs `init` first and says so."""
    from pushauth_server.app import create_app
    from pushauth_server.settings import Settings

    if not os.environ.get("PUSHAUTH_API_KEY"):
        if ENV_FILE.exists():
            # Never rewrite a .env someone configured: its other settings (the public URL, the
            # database) would be lost with it.
            fail(
                f"{ENV_FILE.resolve()} exists but sets no PUSHAUTH_API_KEY.",
                "Add one (`pushauth init --force` writes a fresh .env) or set PUSHAUTH_API_KEY.",
            )
            raise typer.Exit(1)
        bind_host = host or "127.0.0.1"
        bind_port = port or 8300
        write_env_file(
            url=f"http://{bind_host}:{bind_port}",
            database_url=database_url or DEFAULT_DATABASE_URL,
        )
        err.print(
            f"[yellow]No API key was configured: wrote {ENV_FILE.resolve()} with a new one "
            "(as `pushauth init` does).[/]"
        )
    settings = Settings.load(host=host, port=port, database_url=database_url, public_url=public_url)
    app = create_app(settings)
    err.print(
        f"pushauth serving on [bold]http://{settings.host}:{settings.port}[/] "
        f"(origin {settings.origin}, database {_safe_url(settings.database_url)})"
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        # Open event streams never finish by themselves: give them 2 s on shutdown, then close;
        # devices reconnect (and get what is pending) when the server is back.
        timeout_graceful_shutdown=2,
        # Bounded connections (pushauth_server/connections.py): uvicorn's parser, guarded.
        http=guarded_protocol(connection_limits(settings)),
        h11_max_incomplete_event_size=settings.max_header_bytes + 1024,  # the guard's backstop
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
    )
    _ReadyServer(config).run()


def _safe_url(url: str) -> str:
    """A database URL fit to print: the password, if any, masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class _ReadyServer(uvicorn.Server):
    """uvicorn, saying once that it listens, at any log level (scripts and tests wait for it)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.config.host, self.config.port
            err.print(f"{READY_LINE} http://{host}:{port}", soft_wrap=True)
