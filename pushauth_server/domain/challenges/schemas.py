"""Wire shapes of challenges: what relying parties send and see, and what devices see.

Request structs forbid unknown fields and bound every string, so oversized or unexpected input is
a 400 before any service code runs.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from pushauth_server.clock import iso
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol.context import (
    CONTEXT_FIELDS,
    RELYING_PARTY_FIELDS,
    ContextField,
    reserved_custom_key,
)
from pushauth_server.protocol.identifiers import (
    USER_ID_FORMAT,
    USER_ID_MAX_LENGTH,
    USER_ID_PATTERN,
    user_id_problem,
)
from pushauth_server.protocol.text import SAFE_TEXT_PATTERN, UNSAFE_TEXT_RULE, text_problem

# The pattern is documented in OpenAPI (ECMA-262, where ``$`` is the end of the string); msgspec
# matches with Python's ``re``, where ``$`` also matches before a trailing newline, so each struct
# also checks the whole string in ``__post_init__`` (``check_user_id``).
UserId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=USER_ID_MAX_LENGTH,
        pattern=USER_ID_PATTERN,
        description=f"The relying party's identifier for the user: {USER_ID_FORMAT}.",
    ),
]
Action = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9._:-]*$",
        description="What is being approved: a letter first, then letters, digits and . _ : -",
    ),
]
_SAFE = f"Shown to the user: {UNSAFE_TEXT_RULE}."
CustomKey = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=SAFE_TEXT_PATTERN, description=_SAFE)
]
CustomValue = Annotated[str, Meta(max_length=256, pattern=SAFE_TEXT_PATTERN, description=_SAFE)]


def safe_text(max_length: int) -> Meta:
    """Text shown to a person: bounded, and no control, bidi or zero-width characters."""
    return Meta(max_length=max_length, pattern=SAFE_TEXT_PATTERN, description=_SAFE)


def check_user_id(value: str) -> None:
    """Raise ``ValueError`` (a 400 naming the field) unless ``value`` is a whole valid user id."""
    problem = user_id_problem(value)
    if problem is not None:
        raise ValueError(f"user_id: {problem}")


def check_text(field: str, value: str) -> None:
    """Raise ``ValueError`` (a 400 naming the field) for control, bidi or zero-width text."""
    problem = text_problem(field, value)
    if problem is not None:
        raise ValueError(problem)


class _ContextInChecks(Struct, forbid_unknown_fields=True, kw_only=True):
    def __post_init__(self) -> None:
        # Everything here is shown to the user who decides: no text that disguises itself.
        for spec in RELYING_PARTY_FIELDS:
            value = getattr(self, spec.name)
            check_text(f"context.{spec.name}", value)
            if spec.is_ip and value:
                try:
                    ipaddress.ip_address(value)
                except ValueError as exc:
                    raise ValueError(f"{spec.name} is not an IP address") from exc
        custom: dict[str, str] = getattr(self, "custom")  # noqa: B009 - defined by defstruct
        for key, value in custom.items():
            check_text("context.custom key", key)
            check_text(f"context.custom[{key!r}]", value)
            passes_for = reserved_custom_key(key)
            if passes_for is not None:
                raise ValueError(
                    f"context.custom key {key!r} would be shown like the device's own "
                    f"{passes_for!r} row; name it something else"
                )


def _shown_in(spec: ContextField) -> Any:
    if spec.is_ip:
        ip = Meta(max_length=spec.max_length, description="An IPv4 or IPv6 address.")
        return Annotated[str, ip]
    return Annotated[str, safe_text(spec.max_length)]


# The context a relying party sends: every field of protocol.CONTEXT_FIELDS (defined once, on
# ChallengeContext) except those the server supplies, then ``custom``. Unknown fields are refused,
# so a relying party that sends ``application`` gets a 400: it cannot choose or spoof which
# application the device names.
ContextIn = msgspec.defstruct(
    "ContextIn",
    [
        *((spec.name, _shown_in(spec), "") for spec in RELYING_PARTY_FIELDS),
        (
            "custom",
            Annotated[dict[CustomKey, CustomValue], Meta(max_length=16)],
            msgspec.field(default_factory=dict),
        ),
    ],
    bases=(_ContextInChecks,),
    module=__name__,
    forbid_unknown_fields=True,
    kw_only=True,
)


class CreateChallengeIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: UserId
    action: Action = "signIn"
    context: ContextIn = msgspec.field(default_factory=ContextIn)  # type: ignore[valid-type]
    expires_in_seconds: Annotated[float, Meta(gt=0, le=3600)] | None = None
    number_matching: bool = True
    replace_pending: bool = False  # cancel the user's pending challenge instead of being refused

    def __post_init__(self) -> None:
        check_user_id(self.user_id)


# The context as relying parties and devices read it back: the same fields, then ``custom``.
ContextOut = msgspec.defstruct(
    "ContextOut",
    [*((spec.name, str) for spec in CONTEXT_FIELDS), ("custom", dict[str, str])],
    module=__name__,
    kw_only=True,
)


class ChallengeOut(Struct, kw_only=True):
    """A challenge as the relying party sees it (including the code to show the user)."""

    challenge_id: str
    user_id: str
    action: str
    status: Literal["pending", "approved", "denied", "expired", "cancelled"]
    reason: str | None
    verification_code: str
    number_matching: bool
    context: ContextOut  # type: ignore[valid-type]
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
    context: ContextOut  # type: ignore[valid-type]
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
    signature: Annotated[
        str,
        Meta(
            min_length=86,
            max_length=86,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Ed25519 signature (64 bytes, unpadded base64url) of the "
            "challenge-response.",
        ),
    ]


class ResponseOut(Struct, kw_only=True):
    challenge_id: str
    status: str
    reason: str | None


def context_out(challenge: Challenge) -> Any:
    context = challenge.context
    return ContextOut(**context.shown(), custom=dict(context.custom))


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
