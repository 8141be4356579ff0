"""Wire shapes of enrollment."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from pushauth_server.domain.challenges.schemas import UserId


class EnrollmentTokenIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: UserId


class EnrollmentTokenOut(Struct, kw_only=True):
    token: str
    user_id: str
    expires_at: str
    expires_at_ms: int
    server_url: str


class RegisterIn(Struct, forbid_unknown_fields=True, kw_only=True):
    token: Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    public_key: Annotated[str, Meta(min_length=1, max_length=64)]
    # Printable text only: it is shown to operators and users.
    device_name: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
    signature: Annotated[str, Meta(min_length=1, max_length=128)]


class RegisterOut(Struct, kw_only=True):
    credential_id: str
    user_id: str
    device_name: str
    origin: str
    created_at_ms: int
