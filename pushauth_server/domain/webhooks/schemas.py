"""What the webhook routes take and return."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from pushauth_server.clock import iso

EventName = Annotated[str, Meta(min_length=1, max_length=48)]


class WebhookIn(Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=4096)]  # the rules: webhooks/urls.py
    app: Annotated[str, Meta(min_length=1, max_length=64, description="The application's name.")]
    events: Annotated[list[EventName], Meta(max_length=16)] | None = None  # None: every event


class WebhookOut(Struct, kw_only=True):
    endpoint_id: str
    app: str
    app_id: str
    url: str
    events: list[str] | None  # None: every event
    created_at: str
    previous_secret_until: str | None  # a rotation's overlap: the old secret signs too until


class WebhookCreatedOut(WebhookOut, kw_only=True):
    secret: str  # whsec_...: shown once, here


class SecretRotatedOut(Struct, kw_only=True):
    endpoint_id: str
    secret: str  # the new whsec_..., shown once
    previous_secret_until: str | None


class DeliveryOut(Struct, kw_only=True):
    delivery_id: str  # the webhook-id header
    endpoint_id: str
    app_id: str
    event: str
    status: str  # pending, delivered, failed, cancelled
    attempts: int
    created_at: str
    next_attempt_at: str | None
    retry_until: str
    last_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    finished_at: str | None


def events_of(stored: str | None) -> list[str] | None:
    return None if stored is None else stored.split()


def webhook_out(row: Any) -> WebhookOut:
    return WebhookOut(
        endpoint_id=row.endpoint_id,
        app=row.app_name,
        app_id=row.app_id,
        url=row.url,
        events=events_of(row.events),
        created_at=iso(row.created_at_ms) or "",
        previous_secret_until=iso(row.previous_until_ms),
    )


def delivery_out(row: Any) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=row.delivery_id,
        endpoint_id=row.endpoint_id,
        app_id=row.app_id,
        event=row.event,
        status=row.status,
        attempts=int(row.attempts),
        created_at=iso(row.created_at_ms) or "",
        next_attempt_at=iso(row.next_attempt_at_ms) if row.status == "pending" else None,
        retry_until=iso(row.retry_until_ms) or "",
        last_attempt_at=iso(row.last_attempt_at_ms),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        finished_at=iso(row.finished_at_ms),
    )
