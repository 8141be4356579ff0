"""Typed results of client calls, read from the server's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pushauth_server.protocol import CONTEXT_FIELDS, ChallengeContext


def _context_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The shown context fields (protocol.CONTEXT_FIELDS, by name) and the custom ones."""
    context = data.get("context") or {}
    return {
        "shown": {spec.name: str(context.get(spec.name, "")) for spec in CONTEXT_FIELDS},
        "custom": dict(context.get("custom") or {}),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerInfo:
    version: str
    protocol_version: int
    origin: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerInfo:
        return cls(
            version=data["version"],
            protocol_version=data["protocol_version"],
            origin=data["origin"],
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class EnrollmentToken:
    token: str
    user_id: str
    expires_at: str
    expires_at_ms: int
    server_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnrollmentToken:
        return cls(
            **{
                k: data[k]
                for k in ("token", "user_id", "expires_at", "expires_at_ms", "server_url")
            }
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeState:
    """A challenge as the relying party sees it."""

    challenge_id: str
    user_id: str
    action: str
    status: str
    reason: str | None
    verification_code: str
    number_matching: bool
    context: dict[str, Any]
    created_at: str
    expires_at: str
    resolved_at: str | None
    credential_id: str | None
    device_name: str | None
    elapsed_ms: int | None
    devices: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_resolved(self) -> bool:
        return self.status != "pending"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChallengeState:
        return cls(
            challenge_id=data["challenge_id"],
            user_id=data["user_id"],
            action=data["action"],
            status=data["status"],
            reason=data.get("reason"),
            verification_code=data.get("verification_code", ""),
            number_matching=bool(data.get("number_matching", True)),
            context=_context_fields(data),
            created_at=data["created_at"],
            expires_at=data["expires_at"],
            resolved_at=data.get("resolved_at"),
            credential_id=data.get("credential_id"),
            device_name=data.get("device_name"),
            elapsed_ms=data.get("elapsed_ms"),
            devices=data.get("devices"),
            raw=data,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Device:
    credential_id: str
    user_id: str
    name: str
    state: str
    enrolled_at: str
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Device:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSummary:
    """A user the server knows: one who has, or had, an enrolled device."""

    user_id: str
    active_devices: int
    revoked_devices: int
    last_used_at: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserSummary:
        return cls(
            user_id=data["user_id"],
            active_devices=int(data["active_devices"]),
            revoked_devices=int(data["revoked_devices"]),
            last_used_at=data.get("last_used_at"),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PendingChallenge:
    """A challenge as a device sees it: what to show and what to sign. Never the code."""

    challenge_id: str
    user_id: str
    action: str
    shown: dict[str, str]  # the shown context fields by name (protocol.CONTEXT_FIELDS)
    custom: dict[str, str]
    nonce: str
    number_matching: bool
    code_digits: int
    created_at_ms: int
    expires_at_ms: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingChallenge:
        return cls(
            challenge_id=data["challenge_id"],
            user_id=data["user_id"],
            action=data["action"],
            nonce=data["nonce"],
            number_matching=bool(data["number_matching"]),
            code_digits=int(data["code_digits"]),
            created_at_ms=int(data["created_at_ms"]),
            expires_at_ms=int(data["expires_at_ms"]),
            **_context_fields(data),
        )

    def context(self) -> ChallengeContext:
        """The displayed context, exactly as it is hashed into the signed response."""
        return ChallengeContext(
            user_id=self.user_id,
            action=self.action,
            created_at_ms=self.created_at_ms,
            custom=ChallengeContext.custom_items(self.custom),
            **self.shown,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "challenge_id": self.challenge_id,
            "user_id": self.user_id,
            "action": self.action,
            "context": {**self.shown, "custom": self.custom},
            "number_matching": self.number_matching,
            "code_digits": self.code_digits,
            "created_at_ms": self.created_at_ms,
            "expires_at_ms": self.expires_at_ms,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Registration:
    credential_id: str
    user_id: str
    device_name: str
    origin: str
    created_at_ms: int
    app_name: str | None = None  # the application whose token it enrolled through, if recorded
    app_display_name: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registration:
        required = ("credential_id", "user_id", "device_name", "origin", "created_at_ms")
        return cls(
            **{k: data[k] for k in required},
            app_name=data.get("app_name"),
            app_display_name=data.get("app_display_name"),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseResult:
    challenge_id: str
    status: str
    reason: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResponseResult:
        return cls(
            challenge_id=data["challenge_id"], status=data["status"], reason=data.get("reason")
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamEvent:
    """One event on a device stream: ``challenge``, ``resolved``, ``ready`` or ``revoked``."""

    kind: str
    data: dict[str, Any]

    @property
    def challenge(self) -> PendingChallenge | None:
        return PendingChallenge.from_json(self.data) if self.kind == "challenge" else None
