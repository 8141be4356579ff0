"""Errors of the device, each with a message that says what to do next.

DeviceError
├── KeyringUnavailable     no usable keyring: none, a plaintext one, locked, or it failed
├── KeyMissing             the account's key is not in this keyring (another D-Bus session?)
│   ├── KeyDisabled        10 wrong PINs in a row: the key was wiped; enroll again
│   └── KeyDamaged         the keyring entry is not a key this device wrote
├── AccountsFileDamaged    accounts.json cannot be read
├── PinError
│   ├── PinRequired        this account asks for a PIN and none was given
│   ├── PinInvalid         not a PIN this device accepts (at least 6 digits)
│   └── WrongPin           the PIN does not open the key; ``attempts_left`` before it is wiped
├── AccountNotFound        no account matches
├── AccountAmbiguous       several accounts match: pick one with --account
└── ChallengeUnavailable   not pending for any account (answered, expired, cancelled)

Which exit code each one means for ``pushauth-device`` is decided in one place:
:func:`pushauth_device.exit_codes.exit_code_for`.
"""

from __future__ import annotations

__all__ = [
    "AccountAmbiguous",
    "AccountNotFound",
    "AccountsFileDamaged",
    "ChallengeUnavailable",
    "DeviceError",
    "KeyDamaged",
    "KeyDisabled",
    "KeyMissing",
    "KeyringUnavailable",
    "PinError",
    "PinInvalid",
    "PinRequired",
    "WrongPin",
]


class DeviceError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class KeyringUnavailable(DeviceError):
    pass


class KeyMissing(DeviceError):
    pass


class KeyDisabled(KeyMissing):
    pass


class KeyDamaged(KeyMissing):
    pass


class AccountsFileDamaged(DeviceError):
    pass


class PinError(DeviceError):
    pass


class PinRequired(PinError):
    pass


class PinInvalid(PinError):
    pass


class WrongPin(PinError):
    def __init__(self, message: str, hint: str | None = None, *, attempts_left: int) -> None:
        super().__init__(message, hint)
        self.attempts_left = attempts_left


class AccountNotFound(DeviceError):
    pass


class AccountAmbiguous(DeviceError):
    pass


class ChallengeUnavailable(DeviceError):
    def __init__(self, message: str, hint: str | None = None, *, status: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status  # what the server said it is now, when it said
