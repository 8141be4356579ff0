"""Turning client errors into a message and a documented exit code, in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer

from pushauth_cli.exit_codes import ExitCode
from pushauth_cli.render import fail
from pushauth_server.client import (
    ApiError,
    ClientError,
    NoEnrolledDevice,
    PushAuthClient,
    ServerUnreachable,
    Unauthorized,
)
from pushauth_server.client.calls import Call

T = TypeVar("T")


def exit_code_for(error: ClientError) -> ExitCode:
    if isinstance(error, ServerUnreachable):
        return ExitCode.UNREACHABLE
    if isinstance(error, NoEnrolledDevice):
        return ExitCode.NO_DEVICE
    return ExitCode.REFUSED


def hint_for(error: ClientError) -> str | None:
    if isinstance(error, ServerUnreachable):
        return "Is the server running? Start it with: pushauth serve"
    if isinstance(error, NoEnrolledDevice):
        return None
    if isinstance(error, Unauthorized) and error.code == "invalid_api_key":
        return "Check PUSHAUTH_API_KEY (in .env, written by `pushauth init`) matches the server's."
    if isinstance(error, ApiError) and error.details.get("until"):
        return f"Refused until {error.details['until']}."
    if isinstance(error, ApiError) and error.code == "user_locked":
        return "Refused until an operator unlocks it: pushauth unlock USER"
    if isinstance(error, ApiError) and error.code == "challenge_pending":
        return "Wait for it to be answered, or replace it: pushauth signin USER --replace"
    return None


def run_call(url: str, api_key: str, call: Call[T]) -> T:
    """Send one relying-party call; on a client error, report it and exit with its code."""

    async def send() -> T:
        async with PushAuthClient(url, api_key=api_key) as client:
            return await client.call(call)

    with client_errors():
        return asyncio.run(send())
    raise AssertionError("unreachable")  # pragma: no cover - client_errors exits


@contextmanager
def client_errors() -> Iterator[None]:
    """Report a client error on stderr and exit with its code."""
    try:
        yield
    except ClientError as error:
        message = error.message if isinstance(error, ApiError) else str(error)
        if isinstance(error, ApiError):
            message = f"{message} [{error.code}]"
        fail(message, hint_for(error))
        raise typer.Exit(exit_code_for(error)) from None
