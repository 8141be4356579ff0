"""Reading a user's push sign-in state, and the operator's unlock."""

from __future__ import annotations

from dataclasses import replace

from pushauth_server import errors
from pushauth_server.clock import now_ms
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.devices import store as devices_store
from pushauth_server.domain.limits import policy, store
from pushauth_server.domain.limits.policy import LimitState
from pushauth_server.storage import Database


class LimitService:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._db = database
        self._audit = audit

    async def state(self, user_id: str) -> LimitState:
        async with self._db.read() as connection:
            return await store.get(connection, user_id)

    async def unlock(
        self, user_id: str, by: AppIdentity | None = None
    ) -> tuple[LimitState, LimitState]:
        """Lift every lock and strike; returns the state before and after. Always audited.

        A user id the server has never seen is refused (``user_not_found``): a typo must not
        report success, nor write an audit entry for a user who does not exist."""
        now = now_ms()
        async with self._db.write() as connection:
            if not (
                await store.exists(connection, user_id)
                or await devices_store.has_any(connection, user_id)
            ):
                raise errors.UserNotFound(
                    f"The server knows no user {user_id!r}: no device was ever enrolled for it.",
                    user_id=user_id,
                )
            before = await store.load_for_update(connection, user_id)
            after = policy.unlocked(before, now_ms=now)
            await store.save(connection, after)
            was = {
                "locked_not_me": before.locked_not_me,
                "locked_until_ms": before.locked_until_ms,
                "rate_blocked_until_ms": before.rate_blocked_until_ms,
                "consecutive_failures": before.consecutive_failures,
            }
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.USER_UNLOCKED,
                    user_id=user_id,
                    detail={"was": was, **({"app_id": by.app_id, "app": by.name} if by else {})},
                ),
            )
        await self._audit.publish([record])
        return before, replace(after)
