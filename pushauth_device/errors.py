"""Errors of the device, each with a message that says what to do next.

DeviceError
├── KeyringUnavailable     no real keyring (only the fail or a plaintext backend), or it is locked
├── KeyMissing             the account's key is not in the keyring
│   └── KeyDisabled        10 wrong PINs in a row: the key was wiped; enroll again
├── PinError
│   ├── PinRequired        this account asks for a PIN and none was given
│   ├── PinInvalid         not a PIN this device accepts (at least 6 digits)
│   └── WrongPin           the PIN does not open the key; ``attempts_left`` before it is wiped
├── AccountNotFound        no account matches
├── AccountAmbiguous       several accounts match: pick one with --account
└── ChallengeUnavailable   not pending for any account (answered, expired, cancelled)
"""

from __future__ import annotations

__all__ = [
    "AccountAmbiguous",
    "AccountNotFound",
    "ChallengeUnavailable",
    "DeviceError",
    "KeyDisabled",
    "KeyMissing",
    "KeyringUnavailable",
    "PinError",
    "PinInvalid",
    "PinRequired",
    "WrongPin",
]


class DeviceError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class KeyringUnavailable(DeviceError):
    exit_code = 4


class KeyMissing(DeviceError):
    exit_code = 4


class KeyDisabled(KeyMissing):
    pass


class PinError(DeviceError):
    exit_code = 2


class PinRequired(PinError):
    pass


class PinInvalid(PinError):
    pass


class WrongPin(PinError):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, *, attempts_left: int) -> None:
        super().__init__(message, hint)
        self.attempts_left = attempts_left


class AccountNotFound(DeviceError):
    exit_code = 4


class AccountAmbiguous(DeviceError):
    exit_code = 4


class ChallengeUnavailable(DeviceError):
    exit_code = 1
