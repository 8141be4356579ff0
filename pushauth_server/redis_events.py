"""Real-time events through Redis: isolated per deployment, authenticated, and self-healing.

A Litestar channels backend (used by :func:`pushauth_server.realtime.channels_plugin` in Redis
mode) with three properties the plain Redis backend lacks:

* **Isolated.** Every channel name carries a deployment prefix (``PUSHAUTH_REDIS_CHANNEL_PREFIX``;
  by default one derived from ``PUSHAUTH_SECRET``, so two deployments on one Redis never share a
  channel even when nobody configured a prefix). Redis Pub/Sub ignores database numbers.
* **Authenticated.** Each event is published as ``v1:<mac>:<time>:<data>``, where ``mac`` is
  HMAC-SHA256 under a key derived from ``PUSHAUTH_SECRET`` (shared by every process of the
  deployment) over the channel, the time and the data. A subscriber drops, and logs, an event
  whose MAC fails or whose time is more than :data:`MAX_AGE_MS` away: someone who can ``PUBLISH``
  on the Redis cannot forge a challenge, a ``resolved`` or a ``revoked`` event, or move one
  genuine event to another channel. (They can replay a genuine one within that window on the
  same channel: it says what was already true.)
* **Self-healing.** When the connection to Redis fails, the subscriber reconnects with growing
  back-off (0.1 s to 5 s) and subscribes again; it then delivers :data:`RECONNECTED` on every
  subscribed channel, so each open stream reads again what it may have missed. While Redis is
  unreachable, :attr:`AuthenticatedRedisBackend.healthy` is false (``/health`` says degraded).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import struct
import time
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from litestar.channels.backends.base import ChannelsBackend

logger = logging.getLogger("pushauth.realtime")

MAX_AGE_MS = 120_000
RECONNECTED = b'{"type":"reconnected"}'  # local only: never published, so never signed
_VERSION = b"v1"


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the deployment's secret (HMAC-SHA256 as a PRF)."""
    return hmac.new(secret.encode(), b"pushauth\x00" + purpose.encode(), hashlib.sha256).digest()


def default_prefix(secret: str) -> str:
    return "pushauth:" + derive_key(secret, "redis channel prefix").hex()[:16] + ":"


def _mac(key: bytes, channel: str, at_ms: int, data: bytes) -> str:
    name = channel.encode()
    signed = struct.pack(">I", len(name)) + name + struct.pack(">Q", at_ms) + data
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def seal(key: bytes, channel: str, data: bytes, at_ms: int | None = None) -> bytes:
    at_ms = int(time.time() * 1000) if at_ms is None else at_ms
    return b":".join(
        (_VERSION, _mac(key, channel, at_ms, data).encode(), str(at_ms).encode(), data)
    )


def unseal(key: bytes, channel: str, message: bytes, now_ms: int | None = None) -> bytes | None:
    """The data of an authentic, fresh event on ``channel``; None otherwise."""
    parts = message.split(b":", 3)
    if len(parts) != 4 or parts[0] != _VERSION or not parts[2].isdigit():
        return None
    mac, at_ms, data = parts[1], int(parts[2]), parts[3]
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - at_ms) > MAX_AGE_MS:
        return None
    if not hmac.compare_digest(mac, _mac(key, channel, at_ms, data).encode()):
        return None
    return data


class AuthenticatedRedisBackend(ChannelsBackend):
    def __init__(self, *, url: str, secret: str, prefix: str | None = None) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # A pooled connection that died in an outage fails once: try again on a fresh one.
        self._redis: Any = Redis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self._key = derive_key(secret, "redis events")
        self.prefix = prefix if prefix is not None else default_prefix(secret)
        self._channels: set[str] = set()
        self._pubsub: Any = None
        self._has_channels = asyncio.Event()
        self._down = False
        self._publish_failed = False
        self.state_changed = asyncio.Condition()
        self.reconnects = 0
        self._connecting = asyncio.Lock()
        self._notices: list[tuple[str, bytes]] = []  # RECONNECTED, to deliver after an outage

    @property
    def healthy(self) -> bool:
        return not self._down and not self._publish_failed

    async def _set_down(self, down: bool) -> None:
        if down == self._down:
            return
        self._down = down
        if down:
            logger.warning("Redis is unreachable: real-time delivery paused, reconnecting")
        else:
            logger.warning("Redis is reachable again: open streams catch up")
        async with self.state_changed:
            self.state_changed.notify_all()

    async def on_startup(self) -> None:
        pass

    async def on_shutdown(self) -> None:
        if self._pubsub is not None:
            await _quietly(self._pubsub.aclose())
            self._pubsub = None
        await _quietly(self._redis.aclose())

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Subscribed when this returns (if Redis is reachable; otherwise once it is again)."""
        new = set(channels) - self._channels
        self._channels |= new
        self._has_channels.set()
        if not new:
            return
        try:
            if self._pubsub is None:
                await self._connect()  # subscribes every channel, these included
            else:
                await self._pubsub.subscribe(*(self.prefix + c for c in new))
        except Exception:  # the reconnect loop subscribes every channel again
            await self._lost()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = set(channels) & self._channels
        self._channels -= gone
        if not self._channels:
            self._has_channels.clear()
        if gone and self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(*(self.prefix + c for c in gone))
            except Exception:
                await self._lost()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """Publish ``data``, sealed for each channel; raises when Redis cannot take it."""
        try:
            for channel in set(channels):
                await self._redis.publish(self.prefix + channel, seal(self._key, channel, data))
        except Exception:
            self._publish_failed = True
            raise
        self._publish_failed = False

    async def _lost(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            await _quietly(pubsub.aclose())
        await self._set_down(True)

    async def _connect(self) -> None:
        """Open the subscription (again); after an outage, queue RECONNECTED for every channel."""
        async with self._connecting:
            if self._pubsub is not None:
                return
            pubsub = self._redis.pubsub()
            try:
                await self._redis.ping()  # reachable? (SUBSCRIBE alone may not say)
                if self._channels:
                    await pubsub.subscribe(*(self.prefix + c for c in self._channels))
            except BaseException:
                await _quietly(pubsub.aclose())
                raise
            self._pubsub = pubsub
            self._publish_failed = False  # reachable again: the next publish will say otherwise
            if self._down:
                self.reconnects += 1
                self._notices.extend((channel, RECONNECTED) for channel in sorted(self._channels))
            await self._set_down(False)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = 0.1
        while True:
            try:
                if self._pubsub is None:
                    await self._connect()
                    delay = 0.1
                while self._notices:
                    yield self._notices.pop(0)
                if not self._channels:
                    try:
                        async with asyncio.timeout(1.0):
                            await self._has_channels.wait()
                    except TimeoutError:
                        await self._redis.ping()  # idle: still notice an outage
                    continue
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.debug("Redis subscription failed: %r", exc)
                await self._lost()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            full = message["channel"].decode()
            if not full.startswith(self.prefix):
                continue
            channel = full[len(self.prefix) :]
            if channel not in self._channels:
                continue
            data = unseal(self._key, channel, message["data"])
            if data is None:
                logger.warning(
                    "dropped an event on a %s channel that failed authentication "
                    "(wrong key, forged, altered or stale)",
                    channel.split(":", 1)[0],
                )
                continue
            yield channel, data

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("closing a Redis connection failed", exc_info=True)
