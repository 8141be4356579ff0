"""Private keys in the OS keyring, through ``keyring``. Never in plaintext on disk.

Enrollment refuses to run where the only keyring is ``keyring``'s fail backend, the null backend
or a plaintext file backend, and says how to get a real one (never a plaintext one).

Every failure of the keyring (no backend, locked, an entry gone between two calls because another
D-Bus session removed it, any error of the backend's own library) and every entry this device did
not write becomes a :class:`~pushauth_device.errors.DeviceError` here, at the boundary, with what to
do next.

An account enrolled with "ask for a PIN" keeps its key wrapped under the PIN (see
:mod:`.pinwrap`), so the keyring alone cannot approve. Wrong PINs are counted in the keyring next
to the key; after :data:`MAX_WRONG_PINS` in a row the key is wiped and the account must be enrolled
again.
"""

from __future__ import annotations

import contextlib

import keyring
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from keyring.backend import KeyringBackend
from keyring.errors import NoKeyringError

from pushauth_device import pinwrap
from pushauth_device.errors import (
    KeyDamaged,
    KeyDisabled,
    KeyMissing,
    KeyringUnavailable,
    PinInvalid,
    PinRequired,
    WrongPin,
)
from pushauth_server.protocol import b64url_decode, b64url_encode

__all__ = [
    "HOW_TO",
    "MAX_WRONG_PINS",
    "SERVICE",
    "delete_key",
    "ensure_secure_backend",
    "load_key",
    "save_key",
    "validate_pin",
]

SERVICE = "pushauth-device"
RAW_PREFIX = "ed25519-raw:"
DISABLED_PREFIX = "disabled:"
FAILURES_SUFFIX = "#pin-failures"
MAX_WRONG_PINS = 10

HOW_TO = (
    "The app and the pushauth-device commands must use the same unlocked keyring, so run them in "
    "the same D-Bus session. On a desktop, unlock your login keyring. On a headless Linux box: "
    "`dbus-run-session -- bash`, then `echo -n PASSPHRASE | gnome-keyring-daemon --unlock "
    "--components=secrets` in that shell (see the README). macOS Keychain and Windows Credential "
    "Locker work as they are. A key is never stored in plaintext."
)
_ENROLL_AGAIN = (
    "Remove the account (pushauth-device revoke --account {cid}, or x in the app) and enroll "
    "again: pushauth enroll USER."
)
_OTHER_SESSION = (
    "If it was enrolled from another D-Bus session (another terminal's dbus-run-session), run "
    "this in that session. Otherwise r" + _ENROLL_AGAIN[1:]
)


def _cause(exc: BaseException) -> str:
    """What went wrong, in the backend's words, minus advice we do not give (plaintext)."""
    if isinstance(exc, NoKeyringError):
        return "no keyring backend is available in this session"
    text = str(exc).strip()
    if not text or "keyrings.alt" in text:  # keyring's own hint suggests a plaintext backend
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _insecure(backend: KeyringBackend) -> bool:
    children = getattr(backend, "backends", None)
    if children is not None:  # the chainer: secure only if some child is
        return all(_insecure(child) for child in children)
    cls = type(backend)
    module, name = cls.__module__, cls.__name__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return True
    # keyrings.alt's PlaintextKeyring (and other unencrypted file keyrings) store secrets in clear.
    return module.startswith("keyrings.alt") and "Encrypted" not in name


def ensure_secure_backend() -> KeyringBackend:
    backend = keyring.get_keyring()
    if _insecure(backend):
        raise KeyringUnavailable(
            f"No secure keyring is available (found {type(backend).__module__}); "
            "a private key is never stored in plaintext.",
            HOW_TO,
        )
    return backend


def validate_pin(pin: str) -> str:
    if not pinwrap.is_valid_pin(pin):
        raise PinInvalid(
            f"A PIN is {pinwrap.MIN_PIN_DIGITS} or more digits, nothing else.", "Choose another."
        )
    return pin


def _get(username: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, username)
    except Exception as exc:  # KeyringError, secretstorage's and D-Bus's own errors alike
        if type(exc).__name__ == "ItemNotFoundException":  # secretstorage: gone while read
            return None  # removed meanwhile, e.g. from another session: the key is missing
        raise KeyringUnavailable(f"The keyring could not be read ({_cause(exc)}).", HOW_TO) from exc


def _set(username: str, value: str) -> None:
    try:
        keyring.set_password(SERVICE, username, value)
    except Exception as exc:  # KeyringError, secretstorage's and D-Bus's own errors alike
        raise KeyringUnavailable(
            f"The keyring refused to store the key ({_cause(exc)}).", HOW_TO
        ) from exc


def _delete(username: str) -> None:
    with contextlib.suppress(Exception):  # already gone, or the keyring cannot say: nothing to do
        keyring.delete_password(SERVICE, username)


def save_key(credential_id: str, private_key: Ed25519PrivateKey, *, pin: str | None = None) -> None:
    """Store the key; with ``pin``, wrapped under it so that the keyring alone cannot sign."""
    ensure_secure_backend()
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    if pin is None:
        _set(credential_id, RAW_PREFIX + b64url_encode(raw))
        return
    validate_pin(pin)
    _set(credential_id, pinwrap.wrap(raw, pin=pin, credential_id=credential_id).encode())
    _set(credential_id + FAILURES_SUFFIX, "0")


def load_key(credential_id: str, *, pin: str | None = None) -> Ed25519PrivateKey:
    """The account's key. A PIN-wrapped key needs ``pin``; each wrong one is counted."""
    stored = _get(credential_id)
    again = _ENROLL_AGAIN.format(cid=credential_id)
    if stored is None:
        raise KeyMissing(
            f"The key of account {credential_id} is not in this keyring.",
            _OTHER_SESSION.format(cid=credential_id),
        )
    if stored.startswith(DISABLED_PREFIX):
        raise KeyDisabled(
            f"The key of account {credential_id} was disabled on this device after "
            f"{MAX_WRONG_PINS} wrong PINs.",
            again,
        )
    try:
        if stored.startswith(RAW_PREFIX):
            raw = b64url_decode(stored[len(RAW_PREFIX) :])
            return Ed25519PrivateKey.from_private_bytes(raw)
        if stored.startswith(pinwrap.PREFIX):
            wrapped = pinwrap.WrappedKey.decode(stored)
            if pin is None:
                raise PinRequired(
                    "This account asks for its PIN.", "Type it, or pass it with --pin-stdin."
                )
            return _unlock(credential_id, wrapped, pin)
    except (ValueError, TypeError) as exc:  # bad base64, wrong length, a mangled wrap blob
        raise KeyDamaged(
            f"The keyring entry of account {credential_id} is damaged: it is not a key this "
            "device wrote.",
            again,
        ) from exc
    raise KeyDamaged(
        f"The keyring entry of account {credential_id} is damaged: it is not a key this device "
        "wrote.",
        again,
    )


def _unlock(credential_id: str, wrapped: pinwrap.WrappedKey, pin: str) -> Ed25519PrivateKey:
    raw = pinwrap.unwrap(wrapped, pin=pin, credential_id=credential_id)
    if raw is not None:
        _set(credential_id + FAILURES_SUFFIX, "0")
        return Ed25519PrivateKey.from_private_bytes(raw)
    # Counted in the keyring, next to the key, so a restart does not reset a guessing run.
    failures = _failures(credential_id) + 1
    if failures >= MAX_WRONG_PINS:
        _set(credential_id, DISABLED_PREFIX + "too many wrong PINs")
        _delete(credential_id + FAILURES_SUFFIX)
        raise KeyDisabled(
            f"Wrong PIN {MAX_WRONG_PINS} times in a row: the key of account {credential_id} is "
            "now disabled on this device.",
            _ENROLL_AGAIN.format(cid=credential_id),
        )
    _set(credential_id + FAILURES_SUFFIX, str(failures))
    left = MAX_WRONG_PINS - failures
    raise WrongPin(
        f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left before the key is disabled.",
        attempts_left=left,
    )


def _failures(credential_id: str) -> int:
    stored = _get(credential_id + FAILURES_SUFFIX)
    try:
        return int(stored or 0)
    except ValueError:  # a tampered counter counts as the worst case
        return MAX_WRONG_PINS - 1


def delete_key(credential_id: str) -> None:
    for username in (credential_id, credential_id + FAILURES_SUFFIX):
        _delete(username)
