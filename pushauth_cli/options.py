"""Options and arguments shared by several commands, declared once, with their local checks.

A value that cannot be right (a user id the server would refuse, a URL without a scheme) is a
usage error (exit 2) found here, before anything is sent.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

from pushauth_cli.config import DEFAULT_URL

USER_ID_HELP = (
    "1 to 128 characters: a letter or digit first, then letters, digits and . _ @ + - "
    "(no spaces or accents)"
)


def check_user_id(value: str | None) -> str | None:
    """Refuse a user id the server would refuse, with the reason (exit 2)."""
    if value is None:
        return None
    # The one rule, shared with the server's schemas (a light module: no server code loads).
    from pushauth_server.protocol.identifiers import user_id_problem

    problem = user_id_problem(value)
    if problem:
        from pushauth_cli.text import visible

        raise typer.BadParameter(visible(problem))
    return value


def check_url(value: str) -> str:
    """Refuse a server URL that is not ``http(s)://HOST[:PORT]`` (exit 2), saying so."""
    parts = urlsplit(value.strip())
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise typer.BadParameter(
            f"{value!r} is not a server URL: write it in full, like http://127.0.0.1:8300 "
            "or https://push.example.com"
        )
    return value.strip()


ServerUrl = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="PUSHAUTH_URL",
        help="The pushauth server's URL, like http://127.0.0.1:8300 (env PUSHAUTH_URL, or ./.env).",
        show_default=True,
        callback=check_url,
        metavar="URL",
    ),
]
ApiKey = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar="PUSHAUTH_API_KEY",
        help="The relying party's API key (env PUSHAUTH_API_KEY, or ./.env in the current "
        "directory).",
        show_default=False,
        metavar="KEY",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document on stdout, for scripts.")
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", min=0.1, help="Seconds to wait for the answer before giving up.", metavar="S"
    ),
]
UserArg = Annotated[
    str,
    typer.Argument(
        help=f"The user's id at the relying party, e.g. alice: {USER_ID_HELP}.",
        callback=check_user_id,
        metavar="USER",
        show_default=False,
    ),
]

DEFAULT_SERVER_URL = DEFAULT_URL
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The server's database (SQLAlchemy URL). Default: PUSHAUTH_DATABASE_URL from the "
        "environment or ./.env, else the SQLite file ./pushauth.db.",
        show_default=False,
        metavar="URL",
    ),
]
