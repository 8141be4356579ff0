"""Wire shapes of challenges: what relying parties send and see, and what devices see.

Request structs forbid unknown fields and bound every string, so oversized or unexpected input is
a 400 before any service code runs.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from pushauth_server.clock import iso
from pushauth_server.domain.challenges.models import Challenge

UserId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$",
        description="The relying party's identifier for the user.",
    ),
]
Action = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9._:-]*$")]
CustomKey = Annotated[str, Meta(min_length=1, max_length=64)]
CustomValue = Annotated[str, Meta(max_length=256)]


class ContextIn(Struct, forbid_unknown_fields=True, kw_only=True):
    note: Annotated[str, Meta(max_length=500)] = ""
    initiator_host: Annotated[str, Meta(max_length=255)] = ""
    initiator_ip: Annotated[str, Meta(max_length=64)] = ""
    initiator_user_agent: Annotated[str, Meta(max_length=512)] = ""
    custom: Annotated[dict[CustomKey, CustomValue], Meta(max_length=16)] = msgspec.field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.initiator_ip:
            try:
                ipaddress.ip_address(self.initiator_ip)
            except ValueError as exc:
                raise ValueError("initiator_ip is not an IP address") from exc


class CreateChallengeIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: UserId
    action: Action = "signIn"
    context: ContextIn = msgspec.field(default_factory=ContextIn)
    expires_in_seconds: Annotated[float, Meta(gt=0, le=3600)] | None = None
    number_matching: bool = True
    replace_pending: bool = False  # cancel the user's pending challenge instead of being refused


class ContextOut(Struct, kw_only=True):
    note: str
    initiator_host: str
    initiator_ip: str
    initiator_user_agent: str
    custom: dict[str, str]


class ChallengeOut(Struct, kw_only=True):
    """A challenge as the relying party sees it (including the code to show the user)."""

    challenge_id: str
    user_id: str
    action: str
    status: Literal["pending", "approved", "denied", "expired", "cancelled"]
    reason: str | None
    verification_code: str
    number_matching: bool
    context: ContextOut
    created_at: str
    expires_at: str
    resolved_at: str | None
    credential_id: str | None
    device_name: str | None
    elapsed_ms: int | None
    devices: int | None = None


class DeviceChallengeOut(Struct, kw_only=True):
    """A challenge as a device sees it: everything to display and sign, never the code."""

    challenge_id: str
    user_id: str
    action: str
    context: ContextOut
    nonce: str
    number_matching: bool
    code_digits: int
    created_at_ms: int
    expires_at_ms: int


class ResponseIn(Struct, forbid_unknown_fields=True, kw_only=True):
    credential_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    decision: Literal["approve", "deny"]
    reason: Literal["", "not_me"] = ""
    verification_code: Annotated[str, Meta(max_length=8, pattern=r"^[0-9]*$")] = ""
    signature: Annotated[str, Meta(min_length=1, max_length=128)]


class ResponseOut(Struct, kw_only=True):
    challenge_id: str
    status: str
    reason: str | None


def context_out(challenge: Challenge) -> ContextOut:
    context = challenge.context
    return ContextOut(
        note=context.note,
        initiator_host=context.initiator_host,
        initiator_ip=context.initiator_ip,
        initiator_user_agent=context.initiator_user_agent,
        custom=dict(context.custom),
    )


def challenge_out(
    challenge: Challenge, *, device_name: str | None = None, devices: int | None = None
) -> ChallengeOut:
    resolved = challenge.resolved_at_ms
    return ChallengeOut(
        challenge_id=challenge.challenge_id,
        user_id=challenge.user_id,
        action=challenge.action,
        status=challenge.status.value,
        reason=challenge.reason,
        verification_code=challenge.verification_code,
        number_matching=challenge.number_matching,
        context=context_out(challenge),
        created_at=iso(challenge.created_at_ms) or "",
        expires_at=iso(challenge.expires_at_ms) or "",
        resolved_at=iso(resolved),
        credential_id=challenge.credential_id,
        device_name=device_name,
        elapsed_ms=None if resolved is None else resolved - challenge.created_at_ms,
        devices=devices,
    )


def device_challenge_out(challenge: Challenge) -> DeviceChallengeOut:
    return DeviceChallengeOut(
        challenge_id=challenge.challenge_id,
        user_id=challenge.user_id,
        action=challenge.action,
        context=context_out(challenge),
        nonce=challenge.nonce,
        number_matching=challenge.number_matching,
        code_digits=len(challenge.verification_code),
        created_at_ms=challenge.created_at_ms,
        expires_at_ms=challenge.expires_at_ms,
    )
