"""Private keys in the OS keyring, through ``keyring``. Never in plaintext on disk.

Enrollment refuses to run where the only keyring is ``keyring``'s fail backend, the null backend
or a plaintext file backend, and says how to get a real one.
"""

from __future__ import annotations

import contextlib

import keyring
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from pushauth_device.errors import KeyMissing, KeyringUnavailable
from pushauth_server.protocol import b64url_decode, b64url_encode

SERVICE = "pushauth-device"
RAW_PREFIX = "ed25519-raw:"

_HOW_TO = (
    "Install and unlock a real keyring: on Linux, gnome-keyring (Secret Service) in a D-Bus "
    "session; macOS Keychain and Windows Credential Locker work out of the box."
)


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
            _HOW_TO,
        )
    return backend


def save_key(credential_id: str, private_key: Ed25519PrivateKey) -> None:
    ensure_secure_backend()
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    try:
        keyring.set_password(SERVICE, credential_id, RAW_PREFIX + b64url_encode(raw))
    except KeyringError as exc:
        raise KeyringUnavailable(f"The keyring refused to store the key: {exc}", _HOW_TO) from exc


def load_key(credential_id: str) -> Ed25519PrivateKey:
    try:
        stored = keyring.get_password(SERVICE, credential_id)
    except KeyringError as exc:
        raise KeyringUnavailable(f"The keyring could not be read: {exc}", _HOW_TO) from exc
    if not stored or not stored.startswith(RAW_PREFIX):
        raise KeyMissing(
            f"The key of account {credential_id} is not in this keyring.",
            "Enroll this device again: pushauth enroll USER, then pushauth-device enroll …",
        )
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(stored[len(RAW_PREFIX) :]))


def delete_key(credential_id: str) -> None:
    with contextlib.suppress(KeyringError):  # already gone
        keyring.delete_password(SERVICE, credential_id)
