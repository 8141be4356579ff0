"""Applications: create, list, show, update, rotate and revoke; and checking a presented key.

Every change is one transaction with its audit row, made by the calling (admin) application.
Keys are never stored or logged: only their SHA-256 (``api_keys.key_hash``).

Checking a key (:meth:`AppService.authenticate`) is one indexed read, on every relying-party
request that carries an application key (the bootstrap key needs none), so a rotation's end or a
revocation made by any process takes effect on every process at the next request. When an
application was last used is kept in memory and written by :meth:`flush_last_used` (periodically
and at shutdown), never by the request itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from sqlalchemy.exc import IntegrityError

from pushauth_server import errors
from pushauth_server.clock import iso, new_id, now_ms
from pushauth_server.domain.apps import store
from pushauth_server.domain.apps.keys import key_hash, new_key
from pushauth_server.domain.apps.models import OPERATOR_APP_ID, AppIdentity, Scope
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.storage import Database

logger = logging.getLogger("pushauth.apps")

DEFAULT_GRACE_SECONDS = 86_400.0  # a rotated key keeps working for 24 hours unless told otherwise
MAX_GRACE_SECONDS = 30 * 86_400.0


def by_app(app: AppIdentity) -> dict[str, str]:
    """How audit rows name the application that did something."""
    return {"app_id": app.app_id, "app": app.name}


class AppService:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._db = database
        self._audit = audit
        self._last_used: dict[str, int] = {}

    # --- the hot path ---------------------------------------------------------------------------

    async def authenticate(self, presented: str) -> AppIdentity | None:
        """The application whose live key ``presented`` is; None for an unknown, revoked or
        past-grace key (one indexed read)."""
        identity = await self.live(key_hash(presented))
        if identity is not None:
            self.used(identity.app_id, now_ms())
        return identity

    async def live(self, digest: str) -> AppIdentity | None:
        """The application whose key has SHA-256 ``digest``, if that key still works now (also
        how an open stream checks that the key it was opened with was not revoked since)."""
        async with self._db.read() as connection:
            match = await store.by_key_hash(connection, digest)
        now = now_ms()
        if (
            match is None
            or match.app_revoked_at_ms is not None
            or match.key_revoked_at_ms is not None
            # A rotated key stops when its grace period ends.
            or (match.key_expires_at_ms is not None and match.key_expires_at_ms <= now)
        ):
            return None
        return match.identity

    def used(self, app_id: str, at_ms: int) -> None:
        """Note a use (memory only; written by :meth:`flush_last_used`)."""
        if self._last_used.get(app_id, 0) < at_ms:
            self._last_used[app_id] = at_ms

    async def flush_last_used(self) -> None:
        used, self._last_used = self._last_used, {}
        if not used:
            return
        try:
            async with self._db.write() as connection:
                await store.touch(connection, used)
        except Exception:  # kept for the next flush
            for app_id, at in used.items():
                self.used(app_id, at)
            raise

    async def run(self, interval: float = 15.0) -> None:
        """Forever: write the last-used times every ``interval`` seconds."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush_last_used()
            except Exception:
                logger.exception("could not record when applications were last used")

    def last_used_here(self, app_id: str) -> int | None:
        """A use this process has seen but not written yet."""
        return self._last_used.get(app_id)

    # --- reading --------------------------------------------------------------------------------

    async def list(self) -> list[store.Application]:
        async with self._db.read() as connection:
            return await store.all_apps(connection)

    async def get(self, name: str) -> store.Application:
        async with self._db.read() as connection:
            found = await store.by_name(connection, name)
        if found is None:
            raise _not_found(name)
        return found

    # --- changing -------------------------------------------------------------------------------

    async def create(
        self,
        *,
        name: str,
        display_name: str,
        scopes: frozenset[Scope],
        users: tuple[str, ...] | None,
        by: AppIdentity,
    ) -> tuple[store.Application, str]:
        """A new application and its first key (returned once, never stored)."""
        identity = AppIdentity(
            app_id=new_id("app"), name=name, display_name=display_name, scopes=scopes, users=users
        )
        key = new_key()
        now = now_ms()
        async with self._db.write() as connection:
            if await store.name_taken(connection, name):
                raise _name_taken(name)
            try:
                await store.add_app(connection, identity, now)
            except IntegrityError:  # PostgreSQL: another create of this name committed meanwhile
                raise _name_taken(name) from None
            key_id = new_id("key")
            await store.add_key(
                connection,
                key_id=key_id,
                app_id=identity.app_id,
                digest=key_hash(key),
                created_at_ms=now,
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.APP_CREATED,
                    detail={
                        "name": name,
                        "new_app_id": identity.app_id,
                        "display_name": display_name,
                        "scopes": sorted(scopes),
                        "users": list(users) if users is not None else None,
                        "key_id": key_id,
                        **by_app(by),
                    },
                ),
            )
            created = await store.by_name(connection, name)
        await self._audit.publish([record])
        assert created is not None
        return created, key

    async def _changeable(self, name: str) -> store.Application:
        found = await self.get(name)
        if found.identity.app_id == OPERATOR_APP_ID:
            raise errors.OperatorAppFixed(
                "The operator application's key is PUSHAUTH_API_KEY, set in the server's "
                "environment: change it there (and restart), it is not rotated or revoked here.",
                name=name,
            )
        if found.revoked_at_ms is not None:
            raise errors.AppRevoked(
                f"Application {name!r} is revoked; create a new application instead.", name=name
            )
        return found

    async def rotate(
        self, name: str, *, grace_seconds: float, by: AppIdentity
    ) -> tuple[store.Application, str, int]:
        """A new key; the app's other live keys stop when the grace ends (0: at once).
        Returns the application, the new key and when the old keys stop."""
        found = await self._changeable(name)
        key = new_key()
        now = now_ms()
        ends = now + round(grace_seconds * 1000)
        async with self._db.write() as connection:
            ended = await store.end_keys_at(connection, found.identity.app_id, ends)
            key_id = new_id("key")
            await store.add_key(
                connection,
                key_id=key_id,
                app_id=found.identity.app_id,
                digest=key_hash(key),
                created_at_ms=now,
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.APP_ROTATED,
                    detail={
                        "name": name,
                        "key_id": key_id,
                        "old_keys": ended,
                        "old_keys_stop_at": iso(ends),
                        "grace_seconds": grace_seconds,
                        **by_app(by),
                    },
                ),
            )
            rotated = await store.by_name(connection, name)
        await self._audit.publish([record])
        assert rotated is not None
        return rotated, key, ends

    async def revoke(self, name: str, *, by: AppIdentity) -> store.Application:
        """Every key of the app stops at once, on every process (their next request reads it)."""
        found = await self._changeable(name)
        async with self._db.write() as connection:
            await store.revoke(connection, found.identity.app_id, now_ms())
            record = await audit_log.append(
                connection,
                AuditRecord(event=AuditEvent.APP_REVOKED, detail={"name": name, **by_app(by)}),
            )
            revoked = await store.by_name(connection, name)
        await self._audit.publish([record])
        assert revoked is not None
        return revoked

    async def update(self, name: str, *, display_name: str, by: AppIdentity) -> store.Application:
        found = await self.get(name)
        if found.identity.app_id == OPERATOR_APP_ID:
            # The bootstrap key acts as the built-in identity, never as this row: keep them equal.
            raise errors.OperatorAppFixed(
                "The built-in operator application cannot be changed.", name=name
            )
        if found.revoked_at_ms is not None:
            raise errors.AppRevoked(f"Application {name!r} is revoked.", name=name)
        async with self._db.write() as connection:
            await store.set_display_name(connection, found.identity.app_id, display_name)
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.APP_UPDATED,
                    detail={
                        "name": name,
                        "display_name": display_name,
                        "was": found.identity.display_name,
                        **by_app(by),
                    },
                ),
            )
        await self._audit.publish([record])
        return replace(found, identity=replace(found.identity, display_name=display_name))


def _name_taken(name: str) -> errors.AppNameTaken:
    return errors.AppNameTaken(
        f"An application named {name!r} already exists; choose another name.", name=name
    )


def _not_found(name: str) -> errors.AppNotFound:
    return errors.AppNotFound(
        f"No application is named {name!r}. List them with: pushauth apps list", name=name
    )


__all__ = ["DEFAULT_GRACE_SECONDS", "MAX_GRACE_SECONDS", "AppService", "by_app"]
