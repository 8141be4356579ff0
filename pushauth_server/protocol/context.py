"""What the device shows the user, and the hash of it that goes inside the signed response."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pushauth_server.protocol.encoding import FieldValue, canonical_bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeContext:
    """Everything a device displays about a challenge. Never includes the verification code."""

    user_id: str
    action: str
    created_at_ms: int
    note: str = ""
    initiator_host: str = ""
    initiator_ip: str = ""
    initiator_user_agent: str = ""
    custom: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @staticmethod
    def custom_items(custom: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((custom or {}).items()))

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        fixed: tuple[tuple[str, FieldValue], ...] = (
            ("user_id", self.user_id),
            ("action", self.action),
            ("created_at_ms", self.created_at_ms),
            ("note", self.note),
            ("initiator_host", self.initiator_host),
            ("initiator_ip", self.initiator_ip),
            ("initiator_user_agent", self.initiator_user_agent),
        )
        # "custom:" cannot collide with a fixed name; sorting makes the order canonical.
        extra = tuple((f"custom:{key}", value) for key, value in sorted(self.custom))
        return fixed + extra


def context_hash(context: ChallengeContext) -> str:
    """Hex SHA-256 of the canonical encoding of ``context``."""
    return hashlib.sha256(canonical_bytes("challenge-context", context.fields())).hexdigest()
