"""The rules a request proof's parts follow, shared by the device (which builds them) and the
server (which checks them): the nonce's format, the signed request target and the body hash."""

from __future__ import annotations

import hashlib
import re
import secrets

# At least 128 bits: 22 base64url characters carry 132. At most 64 characters (384 bits).
NONCE_MIN_LENGTH = 22
NONCE_MAX_LENGTH = 64
NONCE_PATTERN = rf"^[A-Za-z0-9_-]{{{NONCE_MIN_LENGTH},{NONCE_MAX_LENGTH}}}$"
_NONCE = re.compile(rf"[A-Za-z0-9_-]{{{NONCE_MIN_LENGTH},{NONCE_MAX_LENGTH}}}")
NONCE_BYTES = 32  # what pushauth's own devices use: 256 bits, 43 characters


def new_request_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def is_valid_nonce(nonce: str) -> bool:
    # A short or guessable nonce could be pre-spent or collide; the alphabet keeps it one spelling.
    return _NONCE.fullmatch(nonce) is not None


def request_target(path: str, query: str) -> str:
    """What a request proof signs as ``target``: the route path (never the public URL's prefix),
    then ``?`` and the query string exactly as sent, when there is one."""
    return f"{path}?{query}" if query else path


def body_sha256(body: bytes) -> str:
    """Lowercase hex SHA-256 of the exact body bytes; of ``b""`` when there is no body."""
    return hashlib.sha256(body).hexdigest()
