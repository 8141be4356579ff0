"""Loading and saving a user's limit state.

Rows are written only when the state changes. On PostgreSQL, a transaction that reads the state
to change it holds the row (``FOR UPDATE``); SQLite has a single writer anyway.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from pushauth_server.domain.limits.policy import LimitState
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import user_limits

_SELECT = select(user_limits).where(user_limits.c.user_id == bindparam("user_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()
_FIELDS = tuple(c.name for c in user_limits.c)


def _state(row: object) -> LimitState:
    return LimitState(**{name: getattr(row, name) for name in _FIELDS})


async def load_for_update(connection: Connection, user_id: str) -> LimitState:
    """The user's state, creating the row if new; on PostgreSQL the row stays locked (FOR
    UPDATE), so concurrent changes for one user are serialised."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    await connection.execute(
        dialect.insert(user_limits)
        .values(**asdict(LimitState(user_id=user_id)))
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = (await connection.execute(_SELECT_FOR_UPDATE, {"user_id": user_id})).one()
    return _state(row)


async def locked(connection: Connection, user_id: str) -> LimitState:
    """The user's state, locked on PostgreSQL for the rest of the transaction (no write)."""
    row = (await connection.execute(_SELECT_FOR_UPDATE, {"user_id": user_id})).first()
    return LimitState(user_id=user_id) if row is None else _state(row)


async def get(connection: Connection, user_id: str) -> LimitState:
    row = (await connection.execute(_SELECT, {"user_id": user_id})).first()
    return LimitState(user_id=user_id) if row is None else _state(row)


async def exists(connection: Connection, user_id: str) -> bool:
    return (await connection.execute(_SELECT, {"user_id": user_id})).first() is not None


async def save(connection: Connection, state: LimitState) -> None:
    """Write ``state`` (one upsert: the row may not exist yet)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = asdict(state)
    statement = dialect.insert(user_limits).values(**values)
    changes = {name: statement.excluded[name] for name in values if name != "user_id"}
    await connection.execute(
        statement.on_conflict_do_update(index_elements=["user_id"], set_=changes)
    )
