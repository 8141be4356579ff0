"""Exit codes of ``pushauth signin`` and ``pushauth wait`` (and every other command)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    APPROVED = 0  # also: any command that succeeded
    DENIED = 1  # the user denied, reported "not me", or typed the wrong number
    USAGE = 2  # Typer's usage error
    EXPIRED = 3  # expired, cancelled, or the wait timed out
    NO_DEVICE = 4  # the user has no enrolled device
    REFUSED = 5  # refused by the server: bad API key, a limit or lockout, unknown id
    UNREACHABLE = 6  # the server could not be reached


EXIT_CODES_HELP = (
    "Exit codes: 0 approved (or success); 1 denied, not me, or wrong number; 2 usage error; "
    "3 expired, cancelled or timed out; 4 the user has no enrolled device; "
    "5 refused by the server (bad API key, limits, lockout); 6 server unreachable."
)


def for_status(status: str) -> ExitCode:
    return {
        "approved": ExitCode.APPROVED,
        "denied": ExitCode.DENIED,
    }.get(status, ExitCode.EXPIRED)
