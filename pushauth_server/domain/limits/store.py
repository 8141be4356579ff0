"""Loading and saving a user's limit state, locked for the rest of the transaction."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pushauth_server.domain.limits.policy import LimitState
from pushauth_server.storage.tables import user_limits

_SELECT = select(user_limits).where(user_limits.c.user_id == bindparam("user_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()


async def load_for_update(connection: AsyncConnection, user_id: str) -> LimitState:
    """The user's state, creating it if new; on PostgreSQL the row stays locked (FOR UPDATE), so
    concurrent creates for one user are serialised (SQLite has a single writer anyway)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    await connection.execute(
        dialect.insert(user_limits)
        .values(**asdict(LimitState(user_id=user_id)))
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = (await connection.execute(_SELECT_FOR_UPDATE, {"user_id": user_id})).one()
    return LimitState(**{c.name: getattr(row, c.name) for c in user_limits.c})


async def get(connection: AsyncConnection, user_id: str) -> LimitState:
    row = (await connection.execute(_SELECT, {"user_id": user_id})).first()
    if row is None:
        return LimitState(user_id=user_id)
    return LimitState(**{c.name: getattr(row, c.name) for c in user_limits.c})


async def exists(connection: AsyncConnection, user_id: str) -> bool:
    return (await connection.execute(_SELECT, {"user_id": user_id})).first() is not None


async def save(connection: AsyncConnection, state: LimitState) -> None:
    values = asdict(state)
    user_id = values.pop("user_id")
    await connection.execute(
        update(user_limits).where(user_limits.c.user_id == user_id).values(**values)
    )
