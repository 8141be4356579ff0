"""Listing and revoking a user's devices.

Revocation is immediate: open streams are told to close."""

from __future__ import annotations

from pushauth_server import errors
from pushauth_server.clock import now_ms
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.apps.restriction import allows
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.devices import store
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.webhooks.events import WebhookEvent
from pushauth_server.domain.webhooks.outbox import Outbox, device_data
from pushauth_server.events import RevokedEvent
from pushauth_server.realtime import Notifier, user_channel
from pushauth_server.storage import Database


class DeviceService:
    def __init__(
        self, database: Database, notifier: Notifier, audit: AuditLog, outbox: Outbox
    ) -> None:
        self._db = database
        self._notifier = notifier
        self._audit = audit
        self._outbox = outbox

    async def list_for_user(self, user_id: str) -> list[Credential]:
        async with self._db.read() as connection:
            return await store.for_user(connection, user_id)

    async def list_all(self) -> list[Credential]:
        async with self._db.read() as connection:
            return await store.all_devices(connection)

    async def users(self) -> list[store.UserSummary]:
        async with self._db.read() as connection:
            return await store.users(connection)

    async def get(self, credential_id: str, app: AppIdentity | None = None) -> Credential:
        """The device; another user's device, for an app restricted to some users, is answered
        like an unknown id."""
        async with self._db.read() as connection:
            credential = await store.get(connection, credential_id)
        if credential is None or (app is not None and not allows(app.users, credential.user_id)):
            raise _not_found(credential_id)
        return credential

    async def revoke(
        self, credential_id: str, *, by: str = "relying_party", app: AppIdentity | None = None
    ) -> Credential:
        """Revoke it now; ``app``: the calling application (restricted: its users' devices only,
        named in the audit row)."""
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            credential = await store.get(connection, credential_id)
            if credential is None or (
                app is not None and not allows(app.users, credential.user_id)
            ):
                raise _not_found(credential_id)
            if not await store.revoke(connection, credential_id, now_ms()):
                raise errors.CredentialAlreadyRevoked(
                    f"Device {credential_id!r} is already revoked.", credential_id=credential_id
                )
            revoked = await store.get(connection, credential_id)
            assert revoked is not None
            await self._outbox.user_event(
                connection,
                batch,
                WebhookEvent.DEVICE_REVOKED,
                user_id=revoked.user_id,
                data=device_data(revoked, by=by),
                now_ms=revoked.revoked_at_ms or now_ms(),
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.DEVICE_REVOKED,
                    user_id=revoked.user_id,
                    credential_id=credential_id,
                    detail={
                        "name": revoked.name,
                        "by": by,
                        **({"app_id": app.app_id, "app": app.name} if app else {}),
                    },
                ),
            )
        batch.done()
        await self._audit.publish([record])
        await self._notifier.publish(
            RevokedEvent(credential_id=credential_id), user_channel(revoked.user_id)
        )
        return revoked


def _not_found(credential_id: str) -> errors.CredentialNotFound:
    return errors.CredentialNotFound(
        f"No device has credential id {credential_id!r}.", credential_id=credential_id
    )
