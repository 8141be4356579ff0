"""Canonical bytes for everything pushauth signs or hashes.

Every signed message is ``MAGIC || version || kind || 0x00`` followed by its fields, in a fixed
order, each as ``u16 len(name) || name || u32 len(value) || value``. Length prefixes make the
encoding unambiguous (no field can bleed into the next), the kind label separates domains (a
signature made for one kind of message never verifies as another), and the version byte lets the
format change without old signatures being read under new rules.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable

MAGIC = b"pushauth\x00"
PROTOCOL_VERSION = 3
"""Version 3 (this one) puts the asking application in the signed context; version 2 bound
request proofs to the query string and the body. Versions 1 and 2 are refused, recognised only to
say so (see :mod:`.legacy`)."""

FieldValue = str | int | bytes


def _value_bytes(value: FieldValue) -> bytes:
    if isinstance(
        value, bool
    ):  # bool is an int; refuse it so True never encodes as "1" by accident
        raise TypeError("booleans are not a canonical field type; use a string")
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def canonical_bytes(
    kind: str, fields: Iterable[tuple[str, FieldValue]], *, version: int = PROTOCOL_VERSION
) -> bytes:
    """Encode ``fields`` under the domain label ``kind`` (``version``: only to recognise older
    messages and to verify receipts signed under them)."""
    label = kind.encode("ascii")
    parts = [MAGIC, bytes([version]), label, b"\x00"]
    for name, value in fields:
        name_bytes = name.encode("utf-8")
        value_bytes = _value_bytes(value)
        parts.append(struct.pack(">H", len(name_bytes)))
        parts.append(name_bytes)
        parts.append(struct.pack(">I", len(value_bytes)))
        parts.append(value_bytes)
    return b"".join(parts)


def b64url_encode(data: bytes) -> str:
    """Unpadded URL-safe base64, as used for keys, nonces and signatures on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded URL-safe base64; raises ``ValueError`` on anything else."""
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        raise ValueError("not unpadded URL-safe base64")
    padded = text + "=" * (-len(text) % 4)
    data = base64.b64decode(padded, altchars=b"-_", validate=True)
    # One spelling per value: unused trailing bits must be zero, or "AB" would decode like "AA"
    # and a signature or key string could be altered without changing what it verifies as.
    if b64url_encode(data) != text:
        raise ValueError("not canonical unpadded URL-safe base64")
    return data
