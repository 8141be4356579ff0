"""Errors of the device, each with a message that says what to do next.

DeviceError
├── KeyringUnavailable     no real keyring (only the fail or a plaintext backend)
├── KeyMissing             the account's key is not in the keyring (or is disabled)
├── AccountNotFound        no account matches
├── AccountAmbiguous       several accounts match: pick one with --account
└── ChallengeUnavailable   not pending for any account (answered, expired, cancelled)
"""

from __future__ import annotations


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


class AccountNotFound(DeviceError):
    exit_code = 4


class AccountAmbiguous(DeviceError):
    exit_code = 4


class ChallengeUnavailable(DeviceError):
    exit_code = 1
