"""The outbox: webhook deliveries written in the transaction of the change they announce.

Each ``queue_*`` call runs on the caller's connection, inside its transaction, so a delivery
exists if and only if its event committed: a crash between the commit and the delivery loses
nothing (the worker finds the row), and a rolled-back change announces nothing. After the
commit, :meth:`OutboxBatch.done` wakes this process's worker; other processes find the rows
when they poll.

A challenge's events go to the endpoints of the application that created it, in one
``INSERT ... SELECT`` (0..n rows); a user's events (enrolled, revoked, locked) to every
application whose user restriction covers the user: one read of the subscribed endpoints, then
one insert when any matches.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

from pushauth_server.clock import iso
from pushauth_server.domain.apps import restriction
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.schemas import challenge_out
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.webhooks import store
from pushauth_server.domain.webhooks.events import CHALLENGE_EVENTS, WebhookEvent, envelope
from pushauth_server.storage import Connection


def new_event_id() -> str:
    """The first half of each delivery id (``msg_...``); the endpoint id is the second."""
    return f"msg_{secrets.token_urlsafe(12)}."


def device_data(credential: Credential, **extra: Any) -> dict[str, Any]:
    return {
        "credential_id": credential.credential_id,
        "user_id": credential.user_id,
        "name": credential.name,
        "state": "revoked" if credential.is_revoked else "active",
        "enrolled_at": iso(credential.created_at_ms),
        "revoked_at": iso(credential.revoked_at_ms),
        **extra,
    }


@dataclass(kw_only=True)
class OutboxBatch:
    """What one transaction queued; ``done()`` after its commit wakes the worker if anything."""

    outbox: Outbox
    queued: int = 0

    def done(self) -> None:
        if self.queued:
            self.outbox.wake()


class Outbox:
    def __init__(self, *, origin: str, retry_for_seconds: float) -> None:
        self._origin = origin
        self._retry_for_ms = round(retry_for_seconds * 1000)
        self.woken = asyncio.Event()

    def batch(self) -> OutboxBatch:
        return OutboxBatch(outbox=self)

    def wake(self) -> None:
        self.woken.set()

    def retry_until(self, now_ms: int) -> int:
        return now_ms + self._retry_for_ms

    async def challenge_resolved(
        self,
        connection: Connection,
        batch: OutboxBatch,
        challenge: Challenge,
        *,
        device_name: str | None,
        now_ms: int,
    ) -> None:
        """Queue ``challenge.<status>`` for the creating app's endpoints: the relying party's
        view of the challenge (as ``GET /v1/challenges/{id}``) and the signed receipt."""
        if challenge.app_id is None:  # created before applications existed: no app to tell
            return
        event = CHALLENGE_EVENTS[challenge.status]
        data = {
            **_builtins(challenge_out(challenge, device_name=device_name)),
            "receipt": challenge.receipt(self._origin),
        }
        batch.queued += await store.enqueue_for_app(
            connection,
            app_id=challenge.app_id,
            event=event.value,
            payload=envelope(event, data, now_ms),
            id_prefix=new_event_id(),
            now_ms=now_ms,
            retry_until_ms=self.retry_until(now_ms),
        )

    async def user_event(
        self,
        connection: Connection,
        batch: OutboxBatch,
        event: WebhookEvent,
        *,
        user_id: str,
        data: dict[str, Any],
        now_ms: int,
    ) -> None:
        """Queue ``event`` for every endpoint whose application may act for ``user_id``."""
        found = await store.subscribers(connection, event.value)
        targets = [
            (row.endpoint_id, row.app_id)
            for row in found
            if restriction.allows(_users(row.users_json), user_id)
        ]
        batch.queued += await store.enqueue_rows(
            connection,
            endpoints=targets,
            event=event.value,
            payload=envelope(event, data, now_ms),
            id_prefix=new_event_id(),
            now_ms=now_ms,
            retry_until_ms=self.retry_until(now_ms),
        )


def _builtins(value: Any) -> dict[str, Any]:
    import msgspec

    result: dict[str, Any] = msgspec.to_builtins(value)
    return result


def _users(users_json: str | None) -> list[str] | None:
    if users_json is None:
        return None
    users = json.loads(users_json)
    return [str(user) for user in users] if isinstance(users, list) else None
