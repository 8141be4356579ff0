"""The operator's side of webhooks: endpoints, their secrets, and the deliveries' record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pushauth_server import errors
from pushauth_server.clock import iso, new_id, now_ms
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.webhooks import store
from pushauth_server.domain.webhooks.events import SUBSCRIBABLE, WebhookEvent, envelope
from pushauth_server.domain.webhooks.outbox import Outbox, new_event_id
from pushauth_server.domain.webhooks.schemas import WebhookIn
from pushauth_server.domain.webhooks.sealing import Sealer, new_secret
from pushauth_server.domain.webhooks.urls import checked_url
from pushauth_server.settings import Settings
from pushauth_server.storage import Connection, Database
from pushauth_server.storage.tables import applications

MAX_LISTED = 1000


def _checked_events(events: list[str] | None) -> str | None:
    """The stored form (``" a b "``, so one ``LIKE '% a %'`` matches), or None for all."""
    if events is None:
        return None
    known = {event.value for event in SUBSCRIBABLE}
    unknown = sorted(set(events) - known)
    if unknown or not events:
        raise errors.InvalidRequest(
            f"Unknown webhook event(s): {', '.join(unknown) or '(none given)'}. "
            f"Known: {', '.join(sorted(known))}.",
            field="events",
        )
    return " " + " ".join(sorted(set(events))) + " "


class WebhookService:
    def __init__(
        self, database: Database, settings: Settings, audit: AuditLog, outbox: Outbox
    ) -> None:
        self._db = database
        self._settings = settings
        self._audit = audit
        self._outbox = outbox
        secret = settings.secret.get_secret_value() if settings.secret else ""
        self.sealer = Sealer(secret) if secret else None

    def _sealer(self) -> Sealer:
        if self.sealer is None:
            raise errors.WebhooksNotConfigured(
                "Webhooks need PUSHAUTH_SECRET on the server (endpoint secrets are stored "
                "encrypted under it). Set it in the server's .env (`pushauth init` writes one), "
                "restart the server, and add the endpoint again."
            )
        return self.sealer

    async def add(self, request: WebhookIn) -> tuple[Any, str]:
        """Register an endpoint; returns its row and its secret (shown once)."""
        sealer = self._sealer()
        url = checked_url(request.url)
        events = _checked_events(request.events)
        endpoint_id = new_id("we")
        secret = new_secret()
        now = now_ms()
        async with self._db.write() as connection:
            app_id = await _app_id(connection, request.app)
            await store.add_endpoint(
                connection,
                {
                    "endpoint_id": endpoint_id,
                    "app_id": app_id,
                    "url": url,
                    "events": events,
                    "secret_sealed": sealer.seal(secret, endpoint_id=endpoint_id),
                    "created_at_ms": now,
                },
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.WEBHOOK_ADDED,
                    detail={"endpoint_id": endpoint_id, "app_id": app_id, "url": url},
                ),
            )
            row = await store.endpoint(connection, endpoint_id)
        await self._audit.publish([record])
        return row, secret

    async def endpoints(self, app: str | None = None) -> list[Any]:
        async with self._db.read() as connection:
            app_id = None if app is None else await _app_id(connection, app)
            return await store.endpoints(connection, app_id)

    async def remove(self, endpoint_id: str) -> Any:
        async with self._db.write() as connection:
            row = await store.endpoint(connection, endpoint_id)
            if row is None or not await store.remove_endpoint(connection, endpoint_id, now_ms()):
                raise _no_endpoint(endpoint_id)
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.WEBHOOK_REMOVED,
                    detail={"endpoint_id": endpoint_id, "app_id": row.app_id, "url": row.url},
                ),
            )
        await self._audit.publish([record])
        return row

    async def rotate_secret(self, endpoint_id: str) -> tuple[str, int | None]:
        """A new secret; the current one keeps signing (as well) for the overlap period."""
        sealer = self._sealer()
        secret = new_secret()
        now = now_ms()
        overlap_ms = round(self._settings.webhook_secret_overlap_seconds * 1000)
        until = now + overlap_ms if overlap_ms else None
        async with self._db.write() as connection:
            row = await store.endpoint(connection, endpoint_id)
            if row is None:
                raise _no_endpoint(endpoint_id)
            await store.rotate_secret(
                connection,
                endpoint_id,
                sealed=sealer.seal(secret, endpoint_id=endpoint_id),
                previous_sealed=row.secret_sealed if until else None,
                previous_until_ms=until,
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.WEBHOOK_SECRET_ROTATED,
                    detail={"endpoint_id": endpoint_id, "previous_until": iso(until)},
                ),
            )
        await self._audit.publish([record])
        return secret, until

    async def test(self, endpoint_id: str) -> Any:
        """Queue a ``webhook.test`` event for this endpoint, through the same outbox."""
        now = now_ms()
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            row = await store.endpoint(connection, endpoint_id)
            if row is None:
                raise _no_endpoint(endpoint_id)
            prefix = new_event_id()
            data = {"endpoint_id": endpoint_id, "app": row.app_name, "url": row.url}
            batch.queued += await store.enqueue_rows(
                connection,
                endpoints=[(endpoint_id, row.app_id)],
                event=WebhookEvent.TEST.value,
                payload=envelope(WebhookEvent.TEST, data, now),
                id_prefix=prefix,
                now_ms=now,
                retry_until_ms=self._outbox.retry_until(now),
            )
            delivery = await store.delivery(connection, prefix + endpoint_id)
        batch.done()
        return delivery

    async def deliveries(
        self, *, status: str | None, endpoint_id: str | None, limit: int
    ) -> list[Any]:
        async with self._db.read() as connection:
            return await store.deliveries(
                connection, status=status, endpoint_id=endpoint_id, limit=min(limit, MAX_LISTED)
            )

    async def retry(self, delivery_id: str) -> Any:
        """Send a failed delivery again, under the same webhook-id, with a new retry period."""
        now = now_ms()
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            row = await store.requeue(
                connection, delivery_id, now_ms=now, retry_until_ms=self._outbox.retry_until(now)
            )
            if row is None:
                current = await store.delivery(connection, delivery_id)
                if current is None:
                    raise errors.DeliveryNotFound(
                        f"No webhook delivery has id {delivery_id!r}.", delivery_id=delivery_id
                    )
                raise errors.DeliveryNotFailed(
                    f"Delivery {delivery_id} is {current.status}; only a failed one is retried.",
                    delivery_id=delivery_id,
                    status=current.status,
                )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.WEBHOOK_RETRIED,
                    detail={"delivery_id": delivery_id, "endpoint_id": row.endpoint_id},
                ),
            )
            batch.queued += 1
        await self._audit.publish([record])
        batch.done()
        return row


async def _app_id(connection: Connection, name: str) -> str:
    found = (
        await connection.execute(
            select(applications.c.app_id).where(
                applications.c.name == name, applications.c.revoked_at_ms.is_(None)
            )
        )
    ).first()
    if found is None:
        raise errors.AppNotFound(
            f"No application is named {name!r}. The operator's own is 'operator'; "
            "list them with: pushauth apps list",
            app=name,
        )
    return str(found.app_id)


def _no_endpoint(endpoint_id: str) -> errors.WebhookNotFound:
    return errors.WebhookNotFound(
        f"No webhook endpoint has id {endpoint_id!r}. List them with: pushauth webhooks list",
        endpoint_id=endpoint_id,
    )
