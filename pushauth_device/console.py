"""What ``pushauth-device`` prints, and the one boundary where errors become words and an exit code.

Human text goes to stderr (Rich, markup escaped); ``--json`` output to stdout. Everything that came
from a server or a relying party passes through :func:`~pushauth_device.visible.visible` first.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pushauth_device.accounts import NO_APP, Account
from pushauth_device.errors import DeviceError
from pushauth_device.exit_codes import ExitCode, exit_code_for
from pushauth_device.problems import describe
from pushauth_device.visible import visible
from pushauth_server.client import ClientError, PendingChallenge
from pushauth_server.protocol import CONTEXT_FIELDS

__all__ = [
    "account_json",
    "challenge_line",
    "err",
    "errors",
    "fail",
    "out",
    "run",
    "shown",
]

T = TypeVar("T")
err = Console(stderr=True, highlight=False)


@contextmanager
def errors() -> Iterator[None]:
    """Device and client errors become a message, what to do, and their exit code."""
    try:
        yield
    except (DeviceError, ClientError) as error:
        problem = describe(error)
        fail(problem.message, problem.hint or None, exit_code_for(error))


def fail(message: str, hint: str | None, code: ExitCode) -> NoReturn:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]{escape(hint)}[/]")
    raise typer.Exit(code)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with errors():
        return asyncio.run(coroutine)
    raise AssertionError("unreachable")  # pragma: no cover


def out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()


def account_json(account: Account) -> dict[str, Any]:
    return {
        "credential_id": account.credential_id,
        "user_id": account.user_id,
        "server_url": account.server_url,
        "origin": account.origin,
        "device_name": account.device_name,
        "created_at_ms": account.created_at_ms,
        "require_pin": account.require_pin,
        "app_name": account.app_name,
        "app_display_name": account.app_display_name,
    }


def shown(text: str) -> str:
    """Server- or user-provided text for a Rich console: escapes visible, markup inert."""
    return escape(visible(text))


def challenge_line(challenge: PendingChallenge, account: Account) -> str:
    """One line per challenge and account, the asking application first after the challenge
    id (a dash if the server named none); every value from the server made visible."""
    parts = [visible(challenge.challenge_id)]
    for spec in CONTEXT_FIELDS:
        if spec.server_supplied:
            value = challenge.shown.get(spec.name, "")
            parts.append(f"{spec.name}={quoted(value) if value else NO_APP}")
    parts += [
        f"account={visible(account.credential_id)}",
        f"user={visible(challenge.user_id)}",
        f"action={visible(challenge.action)}",
    ]
    for spec in CONTEXT_FIELDS:
        value = challenge.shown.get(spec.name, "")
        if value and not spec.server_supplied:
            parts.append(f"{spec.name.removeprefix('initiator_')}={quoted(value)}")
    # Custom fields carry a prefix: one named "application" cannot pass for the server's.
    parts.extend(f"custom.{visible(k)}={quoted(v)}" for k, v in sorted(challenge.custom.items()))
    return "  ".join(parts)


def quoted(value: str) -> str:
    return "'" + visible(value).replace("'", "\\'") + "'"
