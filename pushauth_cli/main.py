"""The ``pushauth`` command: a Typer app whose commands live in :mod:`pushauth_cli.commands`."""

from __future__ import annotations

import typer

from pushauth_cli.commands import enroll, operations, server, signin
from pushauth_cli.config import load_env_file
from pushauth_cli.exit_codes import EXIT_CODES_HELP

app = typer.Typer(
    name="pushauth",
    help="pushauth: self-hosted push authentication. Plays the web app (relying party) and runs "
    f"the server.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Read ./.env (without overriding the environment) before any command runs."""
    load_env_file()


app.command()(server.init)
app.command()(server.serve)
app.command()(enroll.enroll)
app.command()(signin.signin)
app.command()(signin.wait)
app.command()(enroll.devices)
app.command()(enroll.revoke)
app.command()(operations.unlock)
app.command()(operations.status)
app.command()(operations.audit)


def run() -> None:
    app()
