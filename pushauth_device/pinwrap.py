"""Wrapping a raw Ed25519 key under a PIN: scrypt for the key, AES-GCM for the wrap. No I/O.

The blob is ``pin-v1:<log2 n>:<salt>:<nonce>:<ciphertext>`` (base64url parts). The credential id is
the AES-GCM associated data, so a wrapped key copied onto another account's entry does not open.
A wrong PIN fails the GCM tag; nothing else tells a wrong PIN from a right one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pushauth_server.protocol import b64url_decode, b64url_encode

__all__ = ["MIN_PIN_DIGITS", "PREFIX", "WrappedKey", "is_valid_pin", "unwrap", "wrap"]

PREFIX = "pin-v1:"
MIN_PIN_DIGITS = 6
MAX_PIN_DIGITS = 64
SCRYPT_LOG2_N = 15  # 32 MiB and ~0.1 s per guess: an offline guesser pays for every PIN tried
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
NONCE_BYTES = 12


def is_valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS


def _kek(pin: str, salt: bytes, log2_n: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=2**log2_n, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(pin.encode("ascii"))


@dataclass(frozen=True, kw_only=True, slots=True)
class WrappedKey:
    log2_n: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def encode(self) -> str:
        parts = (b64url_encode(p) for p in (self.salt, self.nonce, self.ciphertext))
        return PREFIX + f"{self.log2_n}:" + ":".join(parts)

    @classmethod
    def decode(cls, text: str) -> WrappedKey:
        """Raises ``ValueError`` for anything that is not a v1 blob."""
        if not text.startswith(PREFIX):
            raise ValueError("not a PIN-wrapped key")
        log2_n, salt, nonce, ciphertext = text[len(PREFIX) :].split(":")
        if not 10 <= int(log2_n) <= 22:  # refuse a blob that would make us do no work or hang
            raise ValueError("scrypt cost out of range")
        return cls(
            log2_n=int(log2_n),
            salt=b64url_decode(salt),
            nonce=b64url_decode(nonce),
            ciphertext=b64url_decode(ciphertext),
        )


def wrap(raw_key: bytes, *, pin: str, credential_id: str) -> WrappedKey:
    if not is_valid_pin(pin):
        raise ValueError(f"a PIN is {MIN_PIN_DIGITS} or more digits")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    kek = _kek(pin, salt, SCRYPT_LOG2_N)
    ciphertext = AESGCM(kek).encrypt(nonce, raw_key, credential_id.encode("utf-8"))
    return WrappedKey(log2_n=SCRYPT_LOG2_N, salt=salt, nonce=nonce, ciphertext=ciphertext)


def unwrap(wrapped: WrappedKey, *, pin: str, credential_id: str) -> bytes | None:
    """The raw key, or ``None`` when ``pin`` is wrong."""
    if not is_valid_pin(pin):
        return None
    kek = _kek(pin, wrapped.salt, wrapped.log2_n)
    try:
        return AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, credential_id.encode("utf-8"))
    except InvalidTag:
        return None
