"""Server time and identifiers. Expiry is always judged by this clock, never the client's."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    """A 128-bit random identifier with a readable prefix (``ch_``, ``cr_``)."""
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def new_nonce() -> str:
    """A 256-bit server nonce, base64url."""
    return secrets.token_urlsafe(32)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
