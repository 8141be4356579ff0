"""Real-time delivery behind one seam: a hub of in-process subscribers, fed locally or by Redis.

Handlers and services talk to :class:`Notifier` only. What each channel carries is in
:mod:`pushauth_server.events`: typed structs, encoded once by the publisher; subscribers get the
very bytes that were published. Channel names: ``user:<user_id>``, ``challenge:<challenge_id>``,
``audit``.

* **memory** (one process): a publish is handed straight to the subscribers' queues.
* **redis** (several processes): a publish is one ``PUBLISH`` of ``<prefix>:<channel>``; each
  process holds one pattern subscription (``PSUBSCRIBE <prefix>:*``) from start-up and hands what
  arrives to its own subscribers. Subscribing to a channel is then purely local, so "subscribe,
  then read the current state" loses nothing, and costs no round trip to Redis.

Subscribing and unsubscribing cost O(1) whatever the number of channels (a dict of sets); a
channel with no subscribers takes no memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from pushauth_server import events
from pushauth_server.domain.challenges.schemas import ChallengeOut
from pushauth_server.settings import Settings

logger = logging.getLogger("pushauth.realtime")

_CLOSED = b""  # put in a subscriber's queue when the hub closes: the stream ends


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def challenge_channel(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


class Subscription:
    """One subscriber's queue of published bytes, on one or more channels."""

    __slots__ = ("channels", "queue")

    def __init__(self, channels: tuple[str, ...]) -> None:
        self.channels = channels
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()


class Hub:
    """The subscribers of this process, by channel."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self.closed = False

    def add(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            self._subscribers.setdefault(channel, set()).add(subscription)
        if self.closed:
            subscription.queue.put_nowait(_CLOSED)

    def remove(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    def deliver(self, data: bytes, channels: Iterable[str]) -> None:
        for channel in channels:
            for subscription in self._subscribers.get(channel, ()):
                subscription.queue.put_nowait(data)

    def close(self) -> None:
        """End every open subscription (at shutdown: streams finish cleanly, clients reconnect)."""
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.queue.put_nowait(_CLOSED)

    @property
    def subscriptions(self) -> int:
        return len({s for subscribers in self._subscribers.values() for s in subscribers})


class Backend(Protocol):
    async def start(self, hub: Hub) -> None: ...

    async def publish(self, data: bytes, channels: tuple[str, ...]) -> None: ...

    async def stop(self) -> None: ...


class MemoryBackend:
    def __init__(self) -> None:
        self._hub: Hub | None = None

    async def start(self, hub: Hub) -> None:
        self._hub = hub

    async def publish(self, data: bytes, channels: tuple[str, ...]) -> None:
        assert self._hub is not None, "the notifier was not started"
        self._hub.deliver(data, channels)

    async def stop(self) -> None:
        self._hub = None


class RedisBackend:
    """``PUBLISH`` out, one ``PSUBSCRIBE`` in, handed to the local hub."""

    def __init__(self, redis_url: str, *, prefix: str = "pushauth") -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(redis_url)
        self._prefix = f"{prefix}:"
        self._listener: asyncio.Task[None] | None = None

    async def start(self, hub: Hub) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(self._prefix + "*")
        self._listener = asyncio.create_task(self._listen(pubsub, hub))

    async def _listen(self, pubsub: Any, hub: Hub) -> None:
        skip = len(self._prefix)
        try:
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                name = channel.decode() if isinstance(channel, bytes) else str(channel)
                hub.deliver(message["data"], (name[skip:],))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, data: bytes, channels: tuple[str, ...]) -> None:
        for channel in channels:
            await self._redis.publish(self._prefix + channel, data)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()


def backend_for(settings: Settings) -> Backend:
    if settings.channels_backend == "redis":
        return RedisBackend(settings.redis_url)
    return MemoryBackend()


class Notifier:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.hub = Hub()

    async def start(self) -> None:
        await self._backend.start(self.hub)

    async def stop(self) -> None:
        self.hub.close()
        await self._backend.stop()

    async def publish_bytes(self, data: bytes, *channels: str) -> None:
        """Publish already-encoded bytes (encode once, then publish to every channel)."""
        await self._backend.publish(data, channels)

    async def publish(self, event: events.UserEvent | ChallengeOut, *channels: str) -> None:
        await self.publish_bytes(events.encode(event), *channels)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channels)
        self.hub.add(subscription)
        try:
            yield subscription
        finally:
            self.hub.remove(subscription)


class EventReader:
    """Reads published bytes from a subscription, with a per-call timeout that loses nothing.

    ``next(timeout)`` returns ``None`` when nothing arrived in time (a cancelled ``Queue.get``
    takes nothing from the queue); ``closed`` turns true when the hub closed (shutdown).
    """

    __slots__ = ("_queue", "closed")

    def __init__(self, subscription: Subscription) -> None:
        self._queue = subscription.queue
        self.closed = False

    async def next(self, timeout: float) -> bytes | None:
        queue = self._queue
        if queue.empty():
            try:
                async with asyncio.timeout(max(timeout, 0)):
                    data = await queue.get()
            except TimeoutError:
                return None
        else:
            data = queue.get_nowait()
        if data is _CLOSED or not data:
            self.closed = True
            return None
        return data

    def close(self) -> None:
        """Nothing to release (kept so callers read the same with any reader)."""
