"""What the device shows the user, and the hash of it that goes inside the signed response."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pushauth_server.protocol.encoding import FieldValue, canonical_bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class ContextField:
    """One field of the context a relying party sends and a device shows (and signs).

    Defined once, on :class:`ChallengeContext`; the request and response schemas, the audit rows,
    the client library and the device's screens are derived from :data:`CONTEXT_FIELDS`.
    """

    name: str  # the key in every ``context`` object, and ChallengeContext's attribute
    label: str  # how a device labels it
    max_length: int  # the longest a relying party may send
    summary: bool = False  # part of the one-line summary of a request
    is_ip: bool = False  # an IPv4 or IPv6 address (or empty), not free text
    # Filled in by the server from its own records; a relying party cannot send it (400).
    server_supplied: bool = False


def _shown(
    label: str,
    max_length: int,
    *,
    summary: bool = False,
    is_ip: bool = False,
    server_supplied: bool = False,
) -> Any:
    spec = ContextField(
        name="",
        label=label,
        max_length=max_length,
        summary=summary,
        is_ip=is_ip,
        server_supplied=server_supplied,
    )
    return field(default="", metadata={"shown": spec})


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeContext:
    """Everything a device displays about a challenge. Never includes the verification code.

    A new context field is one line here (``_shown``): everything else is derived from it.
    """

    user_id: str
    action: str
    created_at_ms: int
    # Which application asks: its display name from the server's records (protocol v3), never
    # from the request, so a relying party cannot pose as another application.
    application: str = _shown("Application", 128, summary=True, server_supplied=True)
    note: str = _shown("Note", 500, summary=True)
    initiator_host: str = _shown("From host", 255, summary=True)
    initiator_ip: str = _shown("IP address", 64, summary=True, is_ip=True)
    initiator_user_agent: str = _shown("Browser", 512)
    custom: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def shown(self) -> dict[str, str]:
        """The shown fields by name, in their canonical order."""
        return {spec.name: getattr(self, spec.name) for spec in CONTEXT_FIELDS}

    @staticmethod
    def custom_items(custom: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((custom or {}).items()))

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        fixed: tuple[tuple[str, FieldValue], ...] = (
            ("user_id", self.user_id),
            ("action", self.action),
            ("created_at_ms", self.created_at_ms),
            *((spec.name, getattr(self, spec.name)) for spec in CONTEXT_FIELDS),
        )
        # "custom:" cannot collide with a fixed name; sorting makes the order canonical.
        extra = tuple((f"custom:{key}", value) for key, value in sorted(self.custom))
        return fixed + extra


CONTEXT_FIELDS: tuple[ContextField, ...] = tuple(
    dataclasses.replace(f.metadata["shown"], name=f.name)
    for f in dataclasses.fields(ChallengeContext)
    if "shown" in f.metadata
)
"""The shown context fields, in the order they are signed and displayed."""

RELYING_PARTY_FIELDS: tuple[ContextField, ...] = tuple(
    spec for spec in CONTEXT_FIELDS if not spec.server_supplied
)
"""The shown context fields a relying party may send (the others the server fills in)."""


# The rows a device shows besides the context fields (pushauth_device/tui/widgets/
# challenge_details.py): a custom field must not pass for one of them, nor for a context field.
DEVICE_ROWS = ("User", "Server", "Action", "Requested", "Application")


def _plain(key: str) -> str:
    return re.sub(r"[\W_]+", "", key.casefold())


_RESERVED = {
    _plain(name): label
    for label, names in (
        *((row, (row,)) for row in DEVICE_ROWS),
        *((spec.label, (spec.label, spec.name)) for spec in CONTEXT_FIELDS),
        ("User", ("user_id",)),
        ("Requested", ("created_at_ms", "created", "created_at")),
    )
    for name in names
}


def reserved_custom_key(key: str) -> str | None:
    """The row a custom field named ``key`` would pass for on a device (``None``: none): a
    relying party's ``custom`` entry named "Application" or "User" would sit under the real
    ones, looking like them. Case, spaces and punctuation are ignored."""
    return _RESERVED.get(_plain(key))


def context_hash(context: ChallengeContext) -> str:
    """Hex SHA-256 of the canonical encoding of ``context``."""
    return hashlib.sha256(canonical_bytes("challenge-context", context.fields())).hexdigest()
