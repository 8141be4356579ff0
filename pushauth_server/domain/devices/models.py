"""A credential: one enrolled device's public key for one user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pushauth_server.storage import tables


@dataclass(frozen=True, kw_only=True, slots=True)
class Credential:
    credential_id: str
    user_id: str
    name: str
    public_key: str
    created_at_ms: int
    last_used_at_ms: int | None
    revoked_at_ms: int | None
    app_id: str | None = None  # the application it enrolled through (domain/apps)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at_ms is not None

    @classmethod
    def from_row(cls, row: Any) -> Credential:
        return cls(**{column.name: getattr(row, column.name) for column in tables.credentials.c})
