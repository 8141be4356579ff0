"""Credential queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update

from pushauth_server.domain.devices.models import Credential
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import challenges, credentials

# When a device was last used: its latest answer. Read from the challenges it answered, so that
# an answer writes nothing to the credential row (rows from before kept ``last_used_at_ms``).
_LAST_USED = func.coalesce(
    select(func.max(challenges.c.resolved_at_ms))
    .where(challenges.c.credential_id == credentials.c.credential_id)
    .scalar_subquery(),
    credentials.c.last_used_at_ms,
).label("last_used_at_ms")
_COLUMNS = [c for c in credentials.c if c.name != "last_used_at_ms"] + [_LAST_USED]

# Built once, run with bound parameters (building a statement costs about as much as running it).
_GET = select(credentials).where(credentials.c.credential_id == bindparam("credential_id"))
_FOR_USER = (
    select(*_COLUMNS)
    .where(credentials.c.user_id == bindparam("user_id"))
    .order_by(credentials.c.created_at_ms)
)
_ALL = select(*_COLUMNS).order_by(credentials.c.user_id, credentials.c.created_at_ms)
_COUNT_ACTIVE = select(func.count()).where(
    credentials.c.user_id == bindparam("user_id"), credentials.c.revoked_at_ms.is_(None)
)


async def get(connection: Connection, credential_id: str) -> Credential | None:
    row = (await connection.execute(_GET, {"credential_id": credential_id})).first()
    return Credential.from_row(row) if row else None


async def for_user(connection: Connection, user_id: str) -> list[Credential]:
    rows = await connection.execute(_FOR_USER, {"user_id": user_id})
    return [Credential.from_row(row) for row in rows]


async def all_devices(connection: Connection) -> list[Credential]:
    rows = await connection.execute(_ALL)
    return [Credential.from_row(row) for row in rows]


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSummary:
    """A user the server knows: one who has, or had, an enrolled device."""

    user_id: str
    active_devices: int
    revoked_devices: int
    last_used_at_ms: int | None


async def users(connection: Connection) -> list[UserSummary]:
    devices = select(credentials.c.user_id, credentials.c.revoked_at_ms, _LAST_USED).subquery()
    active = func.count().filter(devices.c.revoked_at_ms.is_(None))
    rows = await connection.execute(
        select(
            devices.c.user_id,
            active.label("active"),
            func.count().label("total"),
            func.max(devices.c.last_used_at_ms).label("last_used"),
        )
        .group_by(devices.c.user_id)
        .order_by(devices.c.user_id)
    )
    return [
        UserSummary(
            user_id=row.user_id,
            active_devices=int(row.active),
            revoked_devices=int(row.total) - int(row.active),
            last_used_at_ms=row.last_used,
        )
        for row in rows
    ]


async def has_any(connection: Connection, user_id: str) -> bool:
    """Whether any device, active or revoked, was ever enrolled for ``user_id``."""
    query = select(credentials.c.credential_id).where(credentials.c.user_id == user_id).limit(1)
    return (await connection.execute(query)).first() is not None


async def count_active(connection: Connection, user_id: str) -> int:
    return int((await connection.execute(_COUNT_ACTIVE, {"user_id": user_id})).scalar_one())


async def revoke(connection: Connection, credential_id: str, now_ms: int) -> bool:
    """Compare-and-set: True only for the call that actually revoked it."""
    result = await connection.execute(
        update(credentials)
        .where(credentials.c.credential_id == credential_id, credentials.c.revoked_at_ms.is_(None))
        .values(revoked_at_ms=now_ms)
    )
    return bool(result.rowcount == 1)
