"""Real-time delivery behind one seam: Litestar channels, memory or Redis backend by settings.

Handlers and services talk to :class:`Notifier` only; which backend carries the events is decided
once, in :func:`channels_plugin`. What each channel carries is in :mod:`pushauth_server.events`:
typed structs, encoded once by the publisher; subscribers get the bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

from pushauth_server import events
from pushauth_server.domain.challenges.schemas import ChallengeOut
from pushauth_server.redis_events import RECONNECTED
from pushauth_server.settings import Settings

logger = logging.getLogger("pushauth.realtime")


class MissingSecret(ValueError):
    """Redis mode was asked for without the secret that authenticates its events."""


def channels_backend(settings: Settings) -> ChannelsBackend:
    """Memory (one process), or Redis: prefixed, authenticated, self-healing (redis_events)."""
    if settings.channels_backend != "redis":
        return MemoryChannelsBackend()
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


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    return ChannelsPlugin(backend=channels_backend(settings), arbitrary_channels_allowed=True)


def is_reconnected(data: bytes) -> bool:
    """The local notice a self-healing backend delivers after an outage: read again."""
    return data == RECONNECTED


def _publish_failed(exc: Exception, channels: tuple[str, ...]) -> None:
    logger.warning(
        "could not publish an event on %s (%s): delivery catches up when streams re-read",
        ", ".join(channel.split(":", 1)[0] for channel in channels),
        type(exc).__name__,
    )


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def challenge_channel(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


class Notifier:
    def __init__(self, channels: ChannelsPlugin) -> None:
        self._channels = channels

    @property
    def healthy(self) -> bool:
        """False while the backend cannot reach Redis (always true in memory)."""
        backend = self._channels._backend  # the plugin keeps no public handle on it
        return bool(getattr(backend, "healthy", True))

    async def publish_bytes(self, data: bytes, *channels: str) -> None:
        """Publish already-encoded bytes (encode once, then publish to every channel).

        Never raises: what is published was committed first, and the committed state is the
        answer (a failed publish must not turn a 201 into a 500). A failure is logged; streams
        catch up by reading the database again (docs/operations.md, "Real-time delivery").
        """
        try:
            await self._channels.wait_published(data, list(channels))
        except Exception as exc:
            _publish_failed(exc, channels)

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
