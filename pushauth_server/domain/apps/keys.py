"""Application API keys: ``pak_`` + 256 random bits, shown once, stored only as a SHA-256 hash.

The prefix lets secret scanners find a leaked key. A presented key that cannot be one of ours
(no prefix, wrong length or alphabet) is refused before any database read.
"""

from __future__ import annotations

import re
import secrets

from pushauth_server.clock import sha256_hex

KEY_PREFIX = "pak_"
KEY_BYTES = 32  # 256 bits from the OS CSPRNG
# Ours are pak_ + 43 base64url characters; the bootstrap key (chosen by the operator) is checked
# before this rule applies. Anything longer than this bound is never looked up.
KEY_MAX_LENGTH = 200
_KEY_SHAPE = re.compile(r"pak_[A-Za-z0-9_-]{43}")


def new_key() -> str:
    """A fresh application key (shown once; only :func:`key_hash` of it is stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    return sha256_hex(key)


def looks_like_key(presented: str) -> bool:
    """Whether ``presented`` has the shape of an application key (worth one indexed read)."""
    return len(presented) <= KEY_MAX_LENGTH and _KEY_SHAPE.fullmatch(presented) is not None


__all__ = ["KEY_PREFIX", "key_hash", "looks_like_key", "new_key"]
