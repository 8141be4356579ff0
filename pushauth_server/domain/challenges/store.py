"""Challenge queries. Every transition out of ``pending`` is a compare-and-set.

The hot read queries are built once, with bound parameters: building a statement costs about
as much as running it on SQLite (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import ChallengeStatus
from pushauth_server.storage.tables import challenges

PENDING = ChallengeStatus.PENDING.value

_GET = select(challenges).where(challenges.c.challenge_id == bindparam("challenge_id"))
_PENDING_FOR_USER = (
    select(challenges)
    .where(
        challenges.c.user_id == bindparam("user_id"),
        challenges.c.status == PENDING,
        challenges.c.expires_at_ms > bindparam("now_ms"),
    )
    .order_by(challenges.c.created_at_ms)
)
_COUNT_SINCE = select(func.count()).where(
    challenges.c.user_id == bindparam("user_id"),
    challenges.c.created_at_ms >= bindparam("since_ms"),
)


async def add(connection: AsyncConnection, challenge: Challenge) -> None:
    await connection.execute(insert(challenges).values(**challenge.to_row()))


async def get(connection: AsyncConnection, challenge_id: str) -> Challenge | None:
    row = (await connection.execute(_GET, {"challenge_id": challenge_id})).first()
    return Challenge.from_row(row) if row else None


async def pending_for_user(
    connection: AsyncConnection, user_id: str, now_ms: int
) -> list[Challenge]:
    rows = await connection.execute(_PENDING_FOR_USER, {"user_id": user_id, "now_ms": now_ms})
    return [Challenge.from_row(row) for row in rows]


async def count_since(connection: AsyncConnection, user_id: str, since_ms: int) -> int:
    result = await connection.execute(_COUNT_SINCE, {"user_id": user_id, "since_ms": since_ms})
    return int(result.scalar_one())


async def resolve(
    connection: AsyncConnection,
    challenge_id: str,
    status: ChallengeStatus,
    *,
    unexpired_at: int | None = None,
    **values: Any,
) -> Challenge | None:
    """Move a pending challenge to ``status``. Returns it if this call won, ``None`` otherwise.

    With ``unexpired_at``, only if it has not expired by then (an answer must beat the expiry).
    """
    query = update(challenges).where(
        challenges.c.challenge_id == challenge_id, challenges.c.status == PENDING
    )
    if unexpired_at is not None:
        query = query.where(challenges.c.expires_at_ms > unexpired_at)
    result = await connection.execute(
        query.values(status=status.value, **values).returning(*challenges.c)
    )
    row = result.first()
    return Challenge.from_row(row) if row else None


async def users_with_due(connection: AsyncConnection, now_ms: int) -> list[str]:
    """Users with pending challenges past their expiry, sorted (the order locks are taken in)."""
    rows = await connection.execute(
        select(challenges.c.user_id)
        .where(challenges.c.status == PENDING, challenges.c.expires_at_ms <= now_ms)
        .distinct()
        .order_by(challenges.c.user_id)
    )
    return [row.user_id for row in rows]


async def expire_due(connection: AsyncConnection, now_ms: int) -> list[Challenge]:
    result = await connection.execute(
        update(challenges)
        .where(challenges.c.status == PENDING, challenges.c.expires_at_ms <= now_ms)
        .values(status=ChallengeStatus.EXPIRED.value, resolved_at_ms=now_ms)
        .returning(*challenges.c)
    )
    return [Challenge.from_row(row) for row in result]
