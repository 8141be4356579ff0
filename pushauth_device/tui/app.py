"""Placeholder entry for the full-screen app until its screens land (issue 3)."""

from __future__ import annotations

import typer

from pushauth_device.accounts import AccountStore


def run_app(store: AccountStore) -> None:
    typer.echo(
        "The full-screen app is not built yet. Use the subcommands: pushauth-device --help",
        err=True,
    )
    raise typer.Exit(2)
