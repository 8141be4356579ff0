"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from pushauth_cli.config import DEFAULT_URL

ServerUrl = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="PUSHAUTH_URL",
        help="The pushauth server's URL (env PUSHAUTH_URL, or .env).",
        show_default=True,
    ),
]
ApiKey = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar="PUSHAUTH_API_KEY",
        help="The relying party's API key (env PUSHAUTH_API_KEY, or .env).",
        show_default=False,
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document on stdout, for scripts.")
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=0.1, help="Seconds to wait for the answer before giving up."),
]

DEFAULT_SERVER_URL = DEFAULT_URL
