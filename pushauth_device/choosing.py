"""Which account a command acts for, and unlocking the one that asks for a PIN.

``approve`` and ``deny`` find the account that can answer a challenge (:func:`find`): one of the
challenge's user that has it pending, asking the accounts without a PIN first so that a PIN is
asked only when a PIN account is the one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pushauth_device import keystore, service
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.console import errors, fail, run
from pushauth_device.errors import AccountAmbiguous, DeviceError, PinRequired
from pushauth_device.exit_codes import ExitCode
from pushauth_device.visible import visible
from pushauth_server.client import ClientError, PendingChallenge

__all__ = ["accounts", "find", "read_pin_line", "run_raising", "unlock"]

T = TypeVar("T")


def accounts(store: AccountStore, selector: str | None) -> list[Account]:
    with errors():
        if selector:
            return [store.select(selector)]
        found = store.load()
        if not found:
            store.select(None)  # raises the "no accounts" error with its hint
        return found
    raise AssertionError("unreachable")  # pragma: no cover


def read_pin_line() -> str:
    return sys.stdin.readline().strip()


def unlock(
    chosen: list[Account], pin_stdin: bool, *, raising: bool = False
) -> dict[str, Ed25519PrivateKey]:
    """Unlock the PIN-protected accounts among ``chosen``: one PIN, asked once, one account.

    Errors end the command, unless ``raising``: then they propagate to the caller."""
    try:
        return unlock_raising(chosen, pin_stdin)
    except (DeviceError, ClientError):
        if raising:
            raise
        with errors():
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def unlock_raising(chosen: list[Account], pin_stdin: bool) -> dict[str, Ed25519PrivateKey]:
    locked = [a for a in chosen if a.require_pin]
    if not locked:
        return {}
    if len(locked) > 1:
        raise AccountAmbiguous(
            "Several accounts here ask for a PIN.", "Pick one with --account CREDENTIAL_ID."
        )
    [target] = locked
    if pin_stdin:
        pin = read_pin_line()
    elif sys.stdin.isatty():
        pin = typer.prompt(f"PIN for {target.label}", hide_input=True)
    else:
        raise PinRequired(f"{target.label} asks for its PIN.", "Pass it on stdin with --pin-stdin.")
    return {target.credential_id: keystore.load_key(target.credential_id, pin=pin)}


def run_raising(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def find(
    store: AccountStore, challenge_id: str, selector: str | None, pin_stdin: bool
) -> tuple[Account, PendingChallenge, Ed25519PrivateKey | None]:
    """The account that can answer ``challenge_id``: one of the challenge's user that has it
    pending. Accounts without a PIN are asked first, so a PIN is asked for only when the
    challenge is not theirs and one PIN account is left to ask."""
    chosen = accounts(store, selector)
    plain = [a for a in chosen if not a.require_pin]
    locked = [a for a in chosen if a.require_pin]
    search = run(service.find_pending(plain, challenge_id))
    unchecked = list(search.unchecked)
    if search.found is not None:
        return (*search.found, None)
    if locked:
        if len(locked) > 1:
            fail(
                f"Challenge {visible(challenge_id)} is not pending for the accounts without a "
                "PIN, and several accounts here ask for a PIN.",
                "Pick one with --account CREDENTIAL_ID.",
                ExitCode.ACCOUNT,
            )
        keys = unlock(locked, pin_stdin)
        search = run(service.find_pending(locked, challenge_id, keys))
        unchecked.extend(search.unchecked)
        if search.found is not None:
            account, challenge = search.found
            return account, challenge, keys.get(account.credential_id)
    with errors():
        if unchecked and len(unchecked) == len(chosen):
            raise unchecked[0][1]  # no account could be asked: say why (keyring, server…)
        raise service.not_pending(challenge_id, unchecked)
    raise AssertionError("unreachable")  # pragma: no cover
