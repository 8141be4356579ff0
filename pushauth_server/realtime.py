"""Real-time delivery behind one seam: a hub of in-process subscribers, fed locally or by Redis.

Handlers and services talk to :class:`Notifier` only. What each channel carries is in
:mod:`pushauth_server.events`: typed structs, encoded once by the publisher; subscribers get the
very bytes that were published. Channel names: ``user:<user_id>``, ``challenge:<challenge_id>``,
``audit``.

* **memory** (one process): a publish is handed straight to the subscribers' queues.
* **redis** (several processes): a publish is one ``PUBLISH`` of ``<prefix><channel>``, sealed
  with an HMAC; each process holds one pattern subscription (``PSUBSCRIBE <prefix>*``) from
  start-up, checks what arrives and hands it to its own subscribers. Subscribing to a channel is
  then purely local, so "subscribe, then read the current state" loses nothing, and costs no
  round trip to Redis. The prefix isolates deployments; after an outage the subscription is
  opened again and every open stream reads its state again (:mod:`pushauth_server.redis_events`).

Subscribing and unsubscribing cost O(1) whatever the number of channels (a dict of sets); a
channel with no subscribers takes no memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Protocol

from pushauth_server import events
from pushauth_server.domain.challenges.schemas import ChallengeOut
from pushauth_server.redis_events import RECONNECTED
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

    def deliver_everywhere(self, data: bytes) -> None:
        """Put ``data`` once in every open subscription's queue (after an outage: read again)."""
        for subscription in {s for subscribers in self._subscribers.values() for s in subscribers}:
            subscription.queue.put_nowait(data)

    def close(self) -> None:
        """End every open subscription (at shutdown: streams finish cleanly, clients reconnect)."""
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.queue.put_nowait(_CLOSED)


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


class MissingSecret(ValueError):
    """Redis mode was asked for without the secret that authenticates its events."""


def backend_for(settings: Settings) -> Backend:
    """Memory (one process), or Redis: prefixed, authenticated, self-healing (redis_events)."""
    if settings.channels_backend != "redis":
        return MemoryBackend()
    from pushauth_server.redis_events import AuthenticatedRedisBackend

    secret = settings.secret.get_secret_value() if settings.secret else ""
    if len(secret) < 16:
        raise MissingSecret(
            "PUSHAUTH_SECRET must be set (16 characters or more, the same in every process) "
            "when PUSHAUTH_CHANNELS_BACKEND=redis: it authenticates the events sent through "
            "Redis. Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return AuthenticatedRedisBackend(
        url=settings.redis_url, secret=secret, prefix=settings.redis_channel_prefix
    )


def is_reconnected(data: bytes) -> bool:
    """The local notice a self-healing backend delivers after an outage: read again."""
    return data == RECONNECTED


def _publish_failed(exc: Exception, channels: tuple[str, ...]) -> None:
    logger.warning(
        "could not publish an event on %s (%s): delivery catches up when streams re-read",
        ", ".join(channel.split(":", 1)[0] for channel in channels),
        type(exc).__name__,
    )


class Notifier:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.hub = Hub()

    async def start(self) -> None:
        await self._backend.start(self.hub)

    async def stop(self) -> None:
        self.hub.close()
        await self._backend.stop()

    @property
    def healthy(self) -> bool:
        """False while the backend cannot reach Redis (always true in memory)."""
        return bool(getattr(self._backend, "healthy", True))

    async def publish_bytes(self, data: bytes, *channels: str) -> None:
        """Publish already-encoded bytes (encode once, then publish to every channel).

        Never raises: what is published was committed first, and the committed state is the
        answer (a failed publish must not turn a 201 into a 500). A failure is logged; streams
        catch up by reading the database again (docs/operations.md, "Several processes").
        """
        try:
            await self._backend.publish(data, channels)
        except Exception as exc:
            _publish_failed(exc, channels)

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
