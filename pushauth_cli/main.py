"""The ``pushauth`` command: a Typer app whose commands live in :mod:`pushauth_cli.commands`.

Start-up stays fast (``pushauth --help`` included): this module and the command modules import
only Typer, Rich and the CLI's own light modules at top level. The client library, the server
and uvicorn are imported inside the commands that use them; a test holds that line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pushauth_cli.commands import apps, database, enroll, operations, server, signin, webhooks
from pushauth_cli.config import load_env_file
from pushauth_cli.exit_codes import EXIT_CODES_HELP
from pushauth_cli.help import Command

app = typer.Typer(
    name="pushauth",
    help="pushauth: self-hosted push authentication. Plays the web app (relying party) and runs "
    "the server. Settings come from flags, the environment, then ./.env in the current "
    f"directory.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no type tags, and no Rich import to show it
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"pushauth {version('pushauth')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Read ./.env (without overriding the environment) before any command runs."""
    load_env_file()


app.command(cls=Command)(server.init)
app.command(cls=Command)(server.serve)
app.command(cls=Command)(enroll.enroll)
app.command(cls=Command)(signin.signin)
app.command(cls=Command)(signin.wait)
app.command(cls=Command)(signin.cancel)
app.command(cls=Command)(enroll.users)
app.command(cls=Command)(enroll.devices)
app.command(cls=Command)(enroll.revoke)
app.command(cls=Command)(operations.unlock)
app.command(cls=Command)(operations.status)
app.command(cls=Command)(operations.audit)
app.add_typer(database.app)
app.add_typer(webhooks.app)
app.add_typer(apps.app)


def run() -> None:
    app()
