"""The exit codes of ``pushauth-device``, and the one place an error picks its code."""

from __future__ import annotations

from enum import IntEnum

from pushauth_device.errors import (
    AccountAmbiguous,
    AccountNotFound,
    AccountsFileDamaged,
    ChallengeUnavailable,
    DeviceError,
    KeyMissing,
    KeyringUnavailable,
    PinError,
    PinInvalid,
    PinRequired,
    WrongPin,
)
from pushauth_server.client import ClientError, CredentialRevoked, ServerUnreachable

__all__ = ["EXIT_HELP", "ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1  # already answered, expired, wrong number or PIN, the server said no
    USAGE = 2  # a bad argument, or a PIN that is needed and not given
    ACCOUNT = 4  # no such account, key missing or damaged, keyring unusable, device revoked
    UNREACHABLE = 6  # the server could not be reached


EXIT_HELP = (
    "Exit codes: 0 done; 1 refused (already answered, expired, wrong number or PIN, server said "
    "no); 2 usage error; 4 account or keyring problem (no account, key missing, keyring locked "
    "or in another session, device revoked); 6 server unreachable."
)

# Most specific first: the first matching class decides.
_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (WrongPin, ExitCode.REFUSED),
    (PinRequired, ExitCode.USAGE),
    (PinInvalid, ExitCode.USAGE),
    (PinError, ExitCode.USAGE),
    (KeyringUnavailable, ExitCode.ACCOUNT),
    (KeyMissing, ExitCode.ACCOUNT),
    (AccountsFileDamaged, ExitCode.ACCOUNT),
    (AccountNotFound, ExitCode.ACCOUNT),
    (AccountAmbiguous, ExitCode.ACCOUNT),
    (ChallengeUnavailable, ExitCode.REFUSED),
    (CredentialRevoked, ExitCode.ACCOUNT),
    (ServerUnreachable, ExitCode.UNREACHABLE),
    (ClientError, ExitCode.REFUSED),
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for ``error``; :class:`DeviceError` and client errors all have one."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    if isinstance(error, DeviceError):  # a new error class without its line above
        raise TypeError(f"{type(error).__name__} has no exit code: add it to _CODES")
    raise TypeError(f"{type(error).__name__} is not a pushauth-device error")
