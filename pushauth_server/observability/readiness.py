"""``GET /ready``: can this process reach what it needs (the database; Redis when configured)?

``/health`` is liveness: it answers 200 while the process runs, and never waits on anything.
``/ready`` is what a load balancer or an orchestrator should route by: it runs ``SELECT 1`` on
the database and ``PING`` on Redis (with ``PUSHAUTH_CHANNELS_BACKEND=redis``: request nonces and
events live there), each bounded by :data:`CHECK_TIMEOUT_SECONDS`, and requires the real-time
subscription to be up. It answers 200 with every check ``ok``, or ``503 not_ready`` whose
``details.unreachable`` lists what is not reachable (``database``, ``redis``), so a probe, a
script or an operator can tell which. Nothing is cached: every call checks again, and a probe
that returns 200 means the very next request could be served.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import get
from msgspec import Struct
from sqlalchemy import text

from pushauth_server import errors
from pushauth_server.services import Services

logger = logging.getLogger("pushauth.ready")

CHECK_TIMEOUT_SECONDS = 2.0
_SELECT_ONE = text("SELECT 1")


class Ready(Struct, kw_only=True):
    status: str  # "ready"
    checks: dict[str, str]  # name -> "ok" (or "not_configured" for Redis in memory mode)


class RedisProbe:
    """One small Redis client of its own, so a check never waits behind the app's traffic."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(
            url,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
            socket_timeout=CHECK_TIMEOUT_SECONDS,
        )

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


async def _passes(name: str, check: Any) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check
    except Exception as exc:
        logger.warning("readiness: %s unreachable (%s)", name, type(exc).__name__)
        return False
    return True


async def _database(services: Services) -> None:
    async with services.database.read() as connection:
        await connection.execute(_SELECT_ONE)


async def readiness(services: Services, redis: RedisProbe | None) -> Ready:
    checks = {"database": "ok", "redis": "not_configured"}
    unreachable: list[str] = []
    if not await _passes("database", _database(services)):
        checks["database"] = "unreachable"
        unreachable.append("database")
    if redis is not None:
        # Reachable, and the event subscription is back (it reconnects on its own, with back-off).
        if await _passes("redis", redis.ping()) and services.notifier.healthy:
            checks["redis"] = "ok"
        else:
            checks["redis"] = "unreachable"
            unreachable.append("redis")
    if unreachable:
        raise errors.NotReady(
            f"Not ready: cannot reach {' and '.join(unreachable)}.",
            unreachable=unreachable,
            checks=checks,
            retry_after_seconds=5,
        )
    return Ready(status="ready", checks=checks)


def ready_route(services: Services, redis: RedisProbe | None) -> Any:
    @get(
        "/ready",
        tags=["server"],
        summary="Readiness: 200 when the database (and Redis, if configured) can be reached",
    )
    async def ready() -> Ready:
        return await readiness(services, redis)

    return ready
