"""Wire shapes of enrollment."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from pushauth_server.domain.challenges.schemas import UserId, check_text, check_user_id
from pushauth_server.protocol.text import SAFE_TEXT_PATTERN, UNSAFE_TEXT_RULE


class EnrollmentTokenIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: UserId

    def __post_init__(self) -> None:
        check_user_id(self.user_id)


class EnrollmentTokenOut(Struct, kw_only=True):
    token: str
    user_id: str
    expires_at: str
    expires_at_ms: int
    server_url: str


class RegisterIn(Struct, forbid_unknown_fields=True, kw_only=True):
    token: Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    public_key: Annotated[
        str,
        Meta(
            min_length=43,
            max_length=43,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The raw 32-byte Ed25519 public key, unpadded base64url.",
        ),
    ]
    # Shown to operators and users: no text that disguises itself.
    device_name: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=SAFE_TEXT_PATTERN,
            description=f"The device's name: {UNSAFE_TEXT_RULE}.",
        ),
    ]
    signature: Annotated[
        str,
        Meta(
            min_length=86,
            max_length=86,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Ed25519 signature (64 bytes, unpadded base64url) of the enrollment-proof.",
        ),
    ]

    def __post_init__(self) -> None:
        check_text("device_name", self.device_name)


class RegisterOut(Struct, kw_only=True):
    credential_id: str
    user_id: str
    device_name: str
    origin: str  # the server's origin, which the device signs into every message
    created_at_ms: int
    # The application whose token this device enrolled through (null: the token records none).
    app_name: str | None
    app_display_name: str | None
