"""Every exit code of ``pushauth``, and the one mapper from an outcome to its code.

Commands never pass a bare number to ``typer.Exit``: they name an :class:`ExitCode`, or ask
:func:`for_error` / :func:`for_challenge` for one. The README's table documents these values.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pushauth_server.client import ClientError


class ExitCode(IntEnum):
    OK = 0  # approved, or any command that succeeded
    DENIED = 1  # the user denied, reported "not me", or typed the wrong number
    USAGE = 2  # bad arguments: an invalid user id, a malformed URL, no API key (Click's own 2)
    EXPIRED = 3  # expired, cancelled, or the wait timed out
    NO_DEVICE = 4  # the user has no enrolled device
    REFUSED = 5  # refused by the server: bad API key, missing scope, a limit or lockout, unknown id
    UNREACHABLE = 6  # the server (`db` commands: the database) could not be reached
    NOT_DONE = 7  # nothing done: "no" at a prompt; a .env, port or database schema in the way
    TAMPERED = 8  # `audit verify`: a stored signed response does not verify


EXIT_CODES_HELP = (
    "Exit codes: 0 approved (or success); 1 denied, not me, or wrong number; 2 usage error "
    "(bad user id or URL, no API key); 3 expired, cancelled or timed out; 4 the user has no "
    "enrolled device; 5 refused by the server (bad API key, missing scope, limits, lockout, "
    "unknown id); 6 server (or database) unreachable; 7 nothing done (answered no; .env, "
    "port or database schema in the way); "
    "8 audit verify found a signature that does not verify."
)


def for_challenge(status: str, *, timed_out: bool = False) -> ExitCode:
    """A challenge's final status (or a wait that gave up) as an exit code."""
    if timed_out:
        return ExitCode.EXPIRED
    return {"approved": ExitCode.OK, "denied": ExitCode.DENIED}.get(status, ExitCode.EXPIRED)


def for_error(error: ClientError) -> ExitCode:
    """A client error as an exit code."""
    from pushauth_server.client import NoEnrolledDevice, ServerUnreachable

    if isinstance(error, ServerUnreachable):
        return ExitCode.UNREACHABLE
    if isinstance(error, NoEnrolledDevice):
        return ExitCode.NO_DEVICE
    return ExitCode.REFUSED
