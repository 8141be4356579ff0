"""Every error the device can meet, as a message and what to do: no traceback reaches a person.

Both the commands (:mod:`pushauth_device.main`) and the app use :func:`describe`; the exit code
that goes with an error is :func:`pushauth_device.exit_codes.exit_code_for`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushauth_device.errors import DeviceError
from pushauth_device.visible import visible
from pushauth_server.client import (
    ApiError,
    ClientError,
    CredentialRevoked,
    Refused,
    ServerUnreachable,
)

__all__ = ["REVOKED_HINT", "Problem", "describe"]

REVOKED_HINT = (
    "Remove the account from this device (pushauth-device revoke, or x in the app) and enroll "
    "again: pushauth enroll USER."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


def describe(error: BaseException) -> Problem:
    """The one place foreign and device errors become words for a person.

    What the server said is passed through :func:`~pushauth_device.visible.visible`: it is text
    from the network, shown, never interpreted.
    """
    if isinstance(error, DeviceError):
        return Problem(message=error.message, hint=error.hint or "")
    if isinstance(error, CredentialRevoked):
        return Problem(message="This device was revoked on the server.", hint=REVOKED_HINT)
    if isinstance(error, ServerUnreachable):
        return Problem(
            message=visible(str(error)), hint="Check the server URL and that it is running."
        )
    if isinstance(error, Refused):
        return Problem(
            message=f"The server refused: {visible(error.message)}", hint="Try again later."
        )
    if isinstance(error, ApiError):
        return Problem(message=f"The server said no: {visible(error.message)} [{error.code}]")
    if isinstance(error, ClientError):
        return Problem(message=visible(str(error)))
    return Problem(
        message=f"Something unexpected went wrong: {type(error).__name__}: {visible(str(error))}",
        hint="Please report it; nothing was sent.",
    )
