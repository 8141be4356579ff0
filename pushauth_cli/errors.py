"""Turning client errors into a message and a documented exit code, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from pushauth_cli.exit_codes import ExitCode, for_error
from pushauth_cli.render import fail
from pushauth_cli.text import local_time

if TYPE_CHECKING:
    from pushauth_server.client import ClientError, PushAuthClient
    from pushauth_server.client.calls import Call

T = TypeVar("T")


def stop(code: ExitCode, message: str, hint: str | None = None) -> NoReturn:
    """Report a problem on stderr and exit with its documented code."""
    fail(message, hint)
    raise typer.Exit(code)


def require_api_key(api_key: str) -> None:
    """No API key is a usage error found before any request: say where it is looked for."""
    if not api_key:
        from pushauth_cli.config import no_api_key_hint

        stop(ExitCode.USAGE, "No API key.", no_api_key_hint())


def message_for(error: ClientError) -> str:
    """The error's message, with the server's UTC time shown once, in local time."""
    from pushauth_server.client import ApiError

    if not isinstance(error, ApiError):
        return str(error)
    message = error.message
    until = error.details.get("until")
    if isinstance(until, str) and until:
        if until in message:
            message = message.replace(until, local_time(until))
        else:
            message = f"{message.rstrip('.')}; until {local_time(until)}."
    return f"{message} [{error.code}]"


def hint_for(error: ClientError) -> str | None:
    from pushauth_server.client import ApiError, ServerUnreachable, Unauthorized

    if isinstance(error, ServerUnreachable):
        return "Is the server running? Start it with: pushauth serve"
    if isinstance(error, Unauthorized) and error.code == "invalid_api_key":
        return (
            "Check PUSHAUTH_API_KEY (in ./.env, written by `pushauth init` or `pushauth serve` "
            "in the current directory) matches the server's."
        )
    if not isinstance(error, ApiError):
        return None
    if error.code == "insufficient_scope":
        scope = error.details.get("required_scope", "?")
        return (
            f"This key's application lacks the {scope!r} scope. Use a key with it (--api-key or "
            f"PUSHAUTH_API_KEY), or grant it: pushauth apps create NAME --scope {scope}"
        )
    if error.code == "user_not_allowed":
        return "This key's application is restricted to other users (pushauth apps show NAME)."
    if (
        error.code == "user_locked"
        and not error.details.get("until")
        and "pushauth unlock" not in error.message
    ):
        return "Refused until an operator unlocks it: pushauth unlock USER"
    if error.code == "challenge_pending":
        return (
            "Wait for it to be answered, cancel it (pushauth cancel CHALLENGE), or replace it: "
            "pushauth signin USER --replace"
        )
    if error.code == "user_not_found":
        return "List the users the server knows with: pushauth users"
    return None


@contextmanager
def client_errors() -> Iterator[None]:
    """Report a client error on stderr and exit with its code."""
    from pushauth_server.client import ClientError

    try:
        yield
    except ClientError as error:
        stop(for_error(error), message_for(error), hint_for(error))


def with_client(url: str, api_key: str, work: Callable[[PushAuthClient], Awaitable[T]]) -> T:
    """Run ``work`` with a relying-party client; on a client error, report it and exit."""
    import asyncio

    from pushauth_server.client import PushAuthClient

    require_api_key(api_key)

    async def run() -> T:
        async with PushAuthClient(url, api_key=api_key) as client:
            return await work(client)

    with client_errors():
        return asyncio.run(run())
    raise AssertionError("unreachable")  # pragma: no cover - client_errors exits


def run_call(url: str, api_key: str, call: Call[T]) -> T:
    """Send one relying-party call; on a client error, report it and exit with its code."""
    return with_client(url, api_key, lambda client: client.call(call))
