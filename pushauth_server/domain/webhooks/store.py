"""The webhook tables' queries: endpoints, the outbox insert, and the worker's claims."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, and_, bindparam, case, delete, func, insert, or_, select, update

from pushauth_server.storage import Connection
from pushauth_server.storage.tables import applications, webhook_deliveries, webhook_endpoints

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"

_E = webhook_endpoints.c
_D = webhook_deliveries.c
_A = applications.c

# --- endpoints ----------------------------------------------------------------------------------

_WITH_APP = select(webhook_endpoints, _A.name.label("app_name")).select_from(
    webhook_endpoints.join(applications, _A.app_id == _E.app_id)
)


async def add_endpoint(connection: Connection, row: dict[str, Any]) -> None:
    await connection.execute(insert(webhook_endpoints).values(row))


async def endpoints(connection: Connection, app_id: str | None = None) -> list[Any]:
    query = _WITH_APP.order_by(_E.created_at_ms)
    if app_id is not None:
        query = query.where(_E.app_id == app_id)
    return list((await connection.execute(query)).all())


async def endpoint(connection: Connection, endpoint_id: str) -> Any | None:
    query = _WITH_APP.where(_E.endpoint_id == endpoint_id)
    return (await connection.execute(query)).first()


async def endpoints_by_id(connection: Connection, ids: Sequence[str]) -> dict[str, Any]:
    rows = await connection.execute(select(webhook_endpoints).where(_E.endpoint_id.in_(ids)))
    return {row.endpoint_id: row for row in rows}


async def remove_endpoint(connection: Connection, endpoint_id: str, now_ms: int) -> bool:
    """Delete the endpoint; what it still had pending is cancelled, not sent."""
    removed = await connection.execute(
        delete(webhook_endpoints).where(_E.endpoint_id == endpoint_id)
    )
    if removed.rowcount != 1:
        return False
    await connection.execute(
        update(webhook_deliveries)
        .where(_D.endpoint_id == endpoint_id, _D.status == PENDING)
        .values(
            status=CANCELLED,
            finished_at_ms=now_ms,
            last_error="endpoint removed",
            lease_until_ms=None,
            leased_by=None,
        )
    )
    return True


async def rotate_secret(
    connection: Connection,
    endpoint_id: str,
    *,
    sealed: str,
    previous_sealed: str | None,
    previous_until_ms: int | None,
) -> None:
    await connection.execute(
        update(webhook_endpoints)
        .where(_E.endpoint_id == endpoint_id)
        .values(
            secret_sealed=sealed,
            previous_secret_sealed=previous_sealed,
            previous_until_ms=previous_until_ms,
        )
    )


# --- the outbox: written in the transaction of the change it announces ---------------------------

_DELIVERY_COLUMNS = (
    "delivery_id",
    "endpoint_id",
    "app_id",
    "event",
    "payload_json",
    "status",
    "attempts",
    "created_at_ms",
    "next_attempt_at_ms",
    "retry_until_ms",
)
_subscribed = or_(_E.events.is_(None), _E.events.like(bindparam("pattern")))
_live_app = _A.revoked_at_ms.is_(None)

# One statement per event, 0..n rows: every endpoint of the app that subscribed to it. The
# delivery id (the webhook-id header) is the event's id and the endpoint's.
_ENQUEUE_FOR_APP = insert(webhook_deliveries).from_select(
    list(_DELIVERY_COLUMNS),
    select(
        (bindparam("id_prefix", type_=String) + _E.endpoint_id).label("delivery_id"),
        _E.endpoint_id,
        _E.app_id,
        bindparam("event", type_=String).label("event"),
        bindparam("payload", type_=String).label("payload_json"),
        bindparam("status", type_=String).label("status"),
        bindparam("attempts").label("attempts"),
        bindparam("now_ms").label("created_at_ms"),
        bindparam("now_ms").label("next_attempt_at_ms"),
        bindparam("retry_until_ms").label("retry_until_ms"),
    )
    .select_from(webhook_endpoints.join(applications, _A.app_id == _E.app_id))
    .where(_E.app_id == bindparam("app_id"), _live_app, _subscribed),
)

_SUBSCRIBERS = (
    select(_E.endpoint_id, _E.app_id, _A.users_json)
    .select_from(webhook_endpoints.join(applications, _A.app_id == _E.app_id))
    .where(_live_app, _subscribed)
)


def _pattern(event: str) -> str:
    return f"% {event} %"


async def enqueue_for_app(
    connection: Connection,
    *,
    app_id: str,
    event: str,
    payload: str,
    id_prefix: str,
    now_ms: int,
    retry_until_ms: int,
) -> int:
    """Queue ``payload`` for each endpoint of ``app_id`` subscribed to ``event``; rows queued."""
    result = await connection.execute(
        _ENQUEUE_FOR_APP,
        {
            "app_id": app_id,
            "pattern": _pattern(event),
            "id_prefix": id_prefix,
            "event": event,
            "payload": payload,
            "status": PENDING,
            "attempts": 0,
            "now_ms": now_ms,
            "retry_until_ms": retry_until_ms,
        },
    )
    return max(result.rowcount, 0)


async def subscribers(connection: Connection, event: str) -> list[Any]:
    """Every endpoint subscribed to ``event``, with its app's user restriction (users_json)."""
    return list((await connection.execute(_SUBSCRIBERS, {"pattern": _pattern(event)})).all())


async def enqueue_rows(
    connection: Connection,
    *,
    endpoints: Sequence[tuple[str, str]],
    event: str,
    payload: str,
    id_prefix: str,
    now_ms: int,
    retry_until_ms: int,
) -> int:
    """Queue ``payload`` for the given ``(endpoint_id, app_id)`` pairs, in one statement."""
    if not endpoints:
        return 0
    await connection.execute(
        insert(webhook_deliveries).values(
            [
                {
                    "delivery_id": id_prefix + endpoint_id,
                    "endpoint_id": endpoint_id,
                    "app_id": app_id,
                    "event": event,
                    "payload_json": payload,
                    "status": PENDING,
                    "attempts": 0,
                    "created_at_ms": now_ms,
                    "next_attempt_at_ms": now_ms,
                    "retry_until_ms": retry_until_ms,
                }
                for endpoint_id, app_id in endpoints
            ]
        )
    )
    return len(endpoints)


# --- the worker ---------------------------------------------------------------------------------

# A row leased to a worker is due again only when its lease runs out: a pass never spins on
# rows another process is delivering.
_NEXT_DUE = select(
    func.min(
        case(
            (_D.lease_until_ms > _D.next_attempt_at_ms, _D.lease_until_ms),
            else_=_D.next_attempt_at_ms,
        )
    )
).where(_D.status == PENDING)

_claimable = (
    select(_D.delivery_id)
    .where(
        _D.status == PENDING,
        _D.next_attempt_at_ms <= bindparam("now_ms"),
        or_(_D.lease_until_ms.is_(None), _D.lease_until_ms <= bindparam("now_ms")),
    )
    .order_by(_D.next_attempt_at_ms)
    .limit(bindparam("limit"))
    # PostgreSQL: rows another process is claiming right now are skipped, not waited for.
    # SQLite has one writer (BEGIN IMMEDIATE) and no FOR UPDATE: SQLAlchemy renders none there.
    .with_for_update(skip_locked=True)
)
# With a cap per endpoint: what is due, oldest first, but not of the endpoints this process has
# as many attempts in flight as the cap allows (``full``); the rows read are locked (PostgreSQL:
# others skip them) until the claim's commit, and only the ones picked are claimed.
_CANDIDATES = (
    select(_D.delivery_id, _D.endpoint_id)
    .where(
        _D.status == PENDING,
        _D.next_attempt_at_ms <= bindparam("now_ms"),
        or_(_D.lease_until_ms.is_(None), _D.lease_until_ms <= bindparam("now_ms")),
        _D.endpoint_id.not_in(bindparam("full", expanding=True)),
    )
    .order_by(_D.next_attempt_at_ms)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM_PICKED = (
    update(webhook_deliveries)
    .where(_D.delivery_id.in_(bindparam("ids", expanding=True)))
    .values(
        lease_until_ms=bindparam("lease_until_ms"),
        leased_by=bindparam("worker"),
        attempts=_D.attempts + 1,
        last_attempt_at_ms=bindparam("now_ms"),
    )
    .returning(*webhook_deliveries.c)
)
_CLAIM = (
    update(webhook_deliveries)
    .where(_D.delivery_id.in_(_claimable.scalar_subquery()))
    .values(
        lease_until_ms=bindparam("lease_until_ms"),
        leased_by=bindparam("worker"),
        attempts=_D.attempts + 1,
        last_attempt_at_ms=bindparam("now_ms"),
    )
    .returning(*webhook_deliveries.c)
)


_OLDEST_PENDING = select(func.min(_D.created_at_ms)).where(_D.status == PENDING)


async def oldest_pending(connection: Connection) -> int | None:
    """When the oldest delivery not yet made was queued (for the queue-age gauge)."""
    value = (await connection.execute(_OLDEST_PENDING)).scalar_one()
    return None if value is None else int(value)


async def next_due(connection: Connection) -> int | None:
    """When the earliest pending delivery is due (a read: an idle poll writes nothing)."""
    value = (await connection.execute(_NEXT_DUE)).scalar_one()
    return None if value is None else int(value)


async def claim(
    connection: Connection,
    *,
    worker: str,
    now_ms: int,
    lease_until_ms: int,
    limit: int,
    per_endpoint: int | None = None,
    in_flight: Mapping[str, int] | None = None,
) -> list[Any]:
    """Lease up to ``limit`` due deliveries to ``worker`` (attempts counted at the claim).

    ``per_endpoint``: at most this many in flight per endpoint, counting ``in_flight`` (the
    caller's attempts under way, by endpoint id), so one slow receiver's backlog cannot take
    every slot."""
    params = {"now_ms": now_ms, "lease_until_ms": lease_until_ms, "worker": worker}
    if per_endpoint is None:
        rows = await connection.execute(_CLAIM, {**params, "limit": limit})
        return list(rows.all())
    taken = Counter(in_flight or {})
    full = sorted(endpoint for endpoint, count in taken.items() if count >= per_endpoint)
    candidates = await connection.execute(
        _CANDIDATES, {"now_ms": now_ms, "limit": limit * per_endpoint, "full": full}
    )
    picked: list[str] = []
    for candidate in candidates:
        if len(picked) == limit:
            break
        if taken[candidate.endpoint_id] < per_endpoint:
            taken[candidate.endpoint_id] += 1
            picked.append(candidate.delivery_id)
    if not picked:
        return []
    rows = await connection.execute(_CLAIM_PICKED, {**params, "ids": picked})
    return list(rows.all())


def _held(delivery_id: str, worker: str) -> Any:
    return and_(_D.delivery_id == delivery_id, _D.leased_by == worker, _D.status == PENDING)


async def mark_delivered(
    connection: Connection, delivery_id: str, *, worker: str, status_code: int, now_ms: int
) -> None:
    await connection.execute(
        update(webhook_deliveries)
        .where(_held(delivery_id, worker))
        .values(
            status=DELIVERED,
            last_status_code=status_code,
            last_error=None,
            finished_at_ms=now_ms,
            lease_until_ms=None,
            leased_by=None,
        )
    )


async def mark_retry(
    connection: Connection,
    delivery_id: str,
    *,
    worker: str,
    status_code: int | None,
    error: str,
    next_attempt_at_ms: int,
) -> None:
    await connection.execute(
        update(webhook_deliveries)
        .where(_held(delivery_id, worker))
        .values(
            last_status_code=status_code,
            last_error=error[:200],
            next_attempt_at_ms=next_attempt_at_ms,
            lease_until_ms=None,
            leased_by=None,
        )
    )


async def mark_finished(
    connection: Connection,
    delivery_id: str,
    *,
    worker: str,
    status: str,
    status_code: int | None,
    error: str,
    now_ms: int,
) -> bool:
    """Mark it ``failed`` (or ``cancelled``); True if this worker still held it."""
    result = await connection.execute(
        update(webhook_deliveries)
        .where(_held(delivery_id, worker))
        .values(
            status=status,
            last_status_code=status_code,
            last_error=error[:200],
            finished_at_ms=now_ms,
            lease_until_ms=None,
            leased_by=None,
        )
    )
    return result.rowcount == 1


async def release(connection: Connection, worker: str) -> int:
    """Give back every lease ``worker`` holds (a graceful shutdown): due again at once."""
    result = await connection.execute(
        update(webhook_deliveries)
        .where(_D.leased_by == worker, _D.status == PENDING)
        .values(lease_until_ms=None, leased_by=None)
    )
    return max(result.rowcount, 0)


# --- the operator's view ------------------------------------------------------------------------


async def deliveries(
    connection: Connection, *, status: str | None, endpoint_id: str | None, limit: int
) -> list[Any]:
    query = (
        select(webhook_deliveries).order_by(_D.created_at_ms.desc(), _D.delivery_id).limit(limit)
    )
    if status is not None:
        query = query.where(_D.status == status)
    if endpoint_id is not None:
        query = query.where(_D.endpoint_id == endpoint_id)
    return list((await connection.execute(query)).all())


async def delivery(connection: Connection, delivery_id: str) -> Any | None:
    query = select(webhook_deliveries).where(_D.delivery_id == delivery_id)
    return (await connection.execute(query)).first()


async def requeue(
    connection: Connection, delivery_id: str, *, now_ms: int, retry_until_ms: int
) -> Any | None:
    """A failed delivery, due again now with a fresh retry period; None if it was not failed."""
    result = await connection.execute(
        update(webhook_deliveries)
        .where(_D.delivery_id == delivery_id, _D.status == FAILED)
        .values(
            status=PENDING,
            next_attempt_at_ms=now_ms,
            retry_until_ms=retry_until_ms,
            finished_at_ms=None,
            lease_until_ms=None,
            leased_by=None,
        )
        .returning(*webhook_deliveries.c)
    )
    return result.first()
