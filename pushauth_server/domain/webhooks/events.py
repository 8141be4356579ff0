"""The events webhooks announce, and the one envelope every payload is sent in.

A payload is ``{"type": ..., "timestamp": ..., "data": {...}}`` (the Standard Webhooks
recommendation), encoded once when the event is written to the outbox: every retry sends the
same bytes under the same ``webhook-id``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from pushauth_server.clock import iso
from pushauth_server.protocol import ChallengeStatus


class WebhookEvent(StrEnum):
    CHALLENGE_APPROVED = "challenge.approved"
    CHALLENGE_DENIED = "challenge.denied"
    CHALLENGE_EXPIRED = "challenge.expired"
    CHALLENGE_CANCELLED = "challenge.cancelled"
    DEVICE_ENROLLED = "device.enrolled"
    DEVICE_REVOKED = "device.revoked"
    USER_LOCKED = "user.locked"
    TEST = "webhook.test"  # `pushauth webhooks test`: sent to one endpoint, whatever it subscribed


SUBSCRIBABLE = tuple(event for event in WebhookEvent if event is not WebhookEvent.TEST)

CHALLENGE_EVENTS = {
    ChallengeStatus.APPROVED: WebhookEvent.CHALLENGE_APPROVED,
    ChallengeStatus.DENIED: WebhookEvent.CHALLENGE_DENIED,
    ChallengeStatus.EXPIRED: WebhookEvent.CHALLENGE_EXPIRED,
    ChallengeStatus.CANCELLED: WebhookEvent.CHALLENGE_CANCELLED,
}

_encoder = msgspec.json.Encoder(order="sorted")


def envelope(event: WebhookEvent, data: Any, at_ms: int) -> str:
    """The payload as sent: JSON text, keys sorted."""
    body = {"type": event.value, "timestamp": iso(at_ms), "data": msgspec.to_builtins(data)}
    return _encoder.encode(body).decode("utf-8")
