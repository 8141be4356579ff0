"""One table of exit codes for ``pushauth-device``: every error has one, the documented one."""

from __future__ import annotations

import pytest

from pushauth_device import errors
from pushauth_device.exit_codes import EXIT_HELP, ExitCode, exit_code_for
from pushauth_server.client import (
    ApiError,
    ChallengeNotPending,
    CredentialRevoked,
    ServerUnreachable,
)


def _subclasses(cls: type[errors.DeviceError]) -> list[type[errors.DeviceError]]:
    found = []
    for sub in cls.__subclasses__():
        found.extend([sub, *_subclasses(sub)])
    return found


def _instance(cls: type[errors.DeviceError]) -> errors.DeviceError:
    if issubclass(cls, errors.WrongPin):
        return cls("m", attempts_left=1)
    return cls("m")


@pytest.mark.parametrize("cls", _subclasses(errors.DeviceError), ids=lambda c: c.__name__)
def test_every_device_error_has_an_exit_code(cls: type[errors.DeviceError]) -> None:
    assert exit_code_for(_instance(cls)) in set(ExitCode)


def test_an_error_class_without_a_line_in_the_table_fails_loudly() -> None:
    class Unmapped(errors.DeviceError):
        pass

    with pytest.raises(TypeError, match="Unmapped has no exit code"):
        exit_code_for(Unmapped("m"))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.KeyringUnavailable("m"), 4),
        (errors.KeyMissing("m"), 4),
        (errors.KeyDamaged("m"), 4),
        (errors.KeyDisabled("m"), 4),
        (errors.AccountNotFound("m"), 4),
        (errors.AccountsFileDamaged("m"), 4),
        (errors.PinRequired("m"), 2),
        (errors.PinInvalid("m"), 2),
        (errors.WrongPin("m", attempts_left=3), 1),
        (errors.ChallengeUnavailable("m"), 1),
        (CredentialRevoked(status_code=403, code="credential_revoked", message="m"), 4),
        (ServerUnreachable("m"), 6),
        (ChallengeNotPending(status_code=409, code="challenge_not_pending", message="m"), 1),
        (ApiError(status_code=400, code="x", message="m"), 1),
    ],
)
def test_the_documented_codes(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code
    assert f"{code} " in EXIT_HELP
