"""Every error the app can meet, as a message and what to do: no traceback reaches the screen."""

from __future__ import annotations

from dataclasses import dataclass

from pushauth_device.errors import DeviceError
from pushauth_server.client import (
    ApiError,
    ClientError,
    CredentialRevoked,
    Refused,
    ServerUnreachable,
)

__all__ = ["Problem", "describe"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


def describe(error: BaseException) -> Problem:
    """The one place foreign and device errors become words for a person."""
    if isinstance(error, DeviceError):
        return Problem(message=error.message, hint=error.hint or "")
    if isinstance(error, CredentialRevoked):
        return Problem(
            message="This device was revoked on the server.",
            hint="Remove the account and enroll again (pushauth enroll USER).",
        )
    if isinstance(error, ServerUnreachable):
        return Problem(message=str(error), hint="Check the server URL and that it is running.")
    if isinstance(error, Refused):
        return Problem(message=f"The server refused: {error.message}", hint="Try again later.")
    if isinstance(error, ApiError):
        return Problem(message=f"The server said no: {error.message} [{error.code}]")
    if isinstance(error, ClientError):
        return Problem(message=str(error))
    return Problem(
        message=f"Something unexpected went wrong: {type(error).__name__}: {error}",
        hint="Please report it; nothing was sent.",
    )
