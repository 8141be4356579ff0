"""Real-time delivery behind one seam: Litestar channels, memory or Redis backend by settings.

Handlers and services talk to :class:`Notifier` only; which backend carries the events is decided
once, in :func:`channels_plugin`. What each channel carries is in :mod:`pushauth_server.events`:
typed structs, encoded once by the publisher; subscribers get the bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.memory import MemoryChannelsBackend

from pushauth_server import events
from pushauth_server.domain.challenges.schemas import ChallengeOut
from pushauth_server.settings import Settings


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    if settings.channels_backend == "redis":
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        backend: Any = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def challenge_channel(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


class Notifier:
    def __init__(self, channels: ChannelsPlugin) -> None:
        self._channels = channels

    async def publish_bytes(self, data: bytes, *channels: str) -> None:
        """Publish already-encoded bytes (encode once, then publish to every channel)."""
        await self._channels.wait_published(data, list(channels))

    async def publish(self, event: events.UserEvent | ChallengeOut, *channels: str) -> None:
        await self.publish_bytes(events.encode(event), *channels)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscriber]:
        async with self._channels.start_subscription(list(channels)) as subscriber:
            yield subscriber


class EventReader:
    """Reads published bytes from a subscription, with a per-call timeout that loses nothing.

    ``next(timeout)`` returns ``None`` when nothing arrived in time; the read in progress is kept
    for the next call, so an event arriving at the deadline is not dropped.
    """

    def __init__(self, subscriber: Subscriber) -> None:
        self._iterator = subscriber.iter_events().__aiter__()
        self._pending: asyncio.Future[bytes] | None = None
        self.closed = False

    async def next(self, timeout: float) -> bytes | None:
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._iterator.__anext__())
        done, _ = await asyncio.wait({self._pending}, timeout=max(timeout, 0))
        if not done:
            return None
        future, self._pending = self._pending, None
        try:
            return future.result()
        except StopAsyncIteration:
            self.closed = True
            return None

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
