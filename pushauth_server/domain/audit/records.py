"""What one audit row says, and the names of the events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

from pushauth_server.clock import iso, now_ms
from pushauth_server.storage import tables


class AuditEvent(StrEnum):
    ENROLLMENT_TOKEN_ISSUED = "enrollment.token_issued"
    DEVICE_ENROLLED = "device.enrolled"
    DEVICE_REVOKED = "device.revoked"
    CHALLENGE_CREATED = "challenge.created"
    CHALLENGE_APPROVED = "challenge.approved"
    CHALLENGE_DENIED = "challenge.denied"
    CHALLENGE_NOT_ME = "challenge.reported_not_me"
    CHALLENGE_EXPIRED = "challenge.expired"
    CHALLENGE_CANCELLED = "challenge.cancelled"
    CHALLENGE_REFUSED = "challenge.refused"
    USER_LOCKED = "user.locked"
    USER_UNLOCKED = "user.unlocked"
    INVALID_SIGNATURE = "security.invalid_signature"
    REPLAYED_PROOF = "security.replayed_proof"
    REPLAYED_RESPONSE = "security.replayed_response"
    STALE_PROOF = "security.stale_proof"
    INVALID_API_KEY = "security.invalid_api_key"
    INVALID_ENROLLMENT_TOKEN = "security.invalid_enrollment_token"
    REVOKED_DEVICE_USED = "security.revoked_device_used"
    UNKNOWN_CREDENTIAL = "security.unknown_credential"
    WRONG_ACCOUNT = "security.wrong_account"
    ORIGIN_ADDED = "deployment.origin_added"
    FAILURES_SUPPRESSED = "security.failures_suppressed"
    AUDIT_ROWS_LOST = "audit.rows_lost"  # kept in memory while the database was away, and lost
    WEBHOOK_ADDED = "webhook.endpoint_added"
    WEBHOOK_REMOVED = "webhook.endpoint_removed"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_FAILED = "webhook.failed"  # a delivery's retry period ended without a 2xx
    WEBHOOK_RETRIED = "webhook.retried"  # an operator sent a failed delivery again
    # Applications (domain/apps) and what they read: reads are folded, one row per window.
    APP_CREATED = "app.created"
    APP_UPDATED = "app.updated"
    APP_ROTATED = "app.key_rotated"
    APP_REVOKED = "app.revoked"
    CHALLENGE_READ = "challenge.read"
    AUDIT_READ = "audit.read"
    INSUFFICIENT_SCOPE = "security.insufficient_scope"
    USER_NOT_ALLOWED = "security.user_not_allowed"


class AuditEventOut(msgspec.Struct, kw_only=True):
    """One audit row as the API and the ``audit`` channel carry it."""

    event_id: int | None
    at: str | None
    at_ms: int
    event: str
    user_id: str | None
    credential_id: str | None
    challenge_id: str | None
    action: str | None
    context: dict[str, Any] | None
    detail: dict[str, Any] | None
    receipt: dict[str, Any] | None
    seq: int | None = None  # the row's place in the hash chain (None: before the chain)
    hash: str | None = None  # the row's chain hash


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    event: AuditEvent
    at_ms: int = field(default_factory=now_ms)
    user_id: str | None = None
    credential_id: str | None = None
    challenge_id: str | None = None
    action: str | None = None
    context: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None
    event_id: int | None = None
    seq: int | None = None
    prev_hash: str | None = None
    row_hash: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "at_ms": self.at_ms,
            "event": self.event.value,
            "user_id": self.user_id,
            "credential_id": self.credential_id,
            "challenge_id": self.challenge_id,
            "action": self.action,
            "context_json": _dump(self.context),
            "detail_json": _dump(self.detail),
            "receipt_json": _dump(self.receipt),
        }

    @classmethod
    def from_row(cls, row: Any) -> AuditRecord:
        values = {c.name: getattr(row, c.name) for c in tables.audit_events.c}
        return cls(
            event_id=values["event_id"],
            at_ms=values["at_ms"],
            event=AuditEvent(values["event"]),
            user_id=values["user_id"],
            credential_id=values["credential_id"],
            challenge_id=values["challenge_id"],
            action=values["action"],
            context=_load(values["context_json"]),
            detail=_load(values["detail_json"]),
            receipt=_load(values["receipt_json"]),
            seq=values["seq"],
            prev_hash=values["prev_hash"],
            row_hash=values["row_hash"],
        )

    def to_out(self) -> AuditEventOut:
        return AuditEventOut(**self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "at": iso(self.at_ms),
            "at_ms": self.at_ms,
            "event": self.event.value,
            "user_id": self.user_id,
            "credential_id": self.credential_id,
            "challenge_id": self.challenge_id,
            "action": self.action,
            "context": self.context,
            "detail": self.detail,
            "receipt": self.receipt,
            "seq": self.seq,
            "hash": self.row_hash,
        }


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    loaded: dict[str, Any] = json.loads(text)
    return loaded
