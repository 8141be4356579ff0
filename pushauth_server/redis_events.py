"""Real-time events through Redis: isolated per deployment, authenticated, and self-healing.

The Redis backend of :class:`pushauth_server.realtime.Notifier` (``PUSHAUTH_CHANNELS_BACKEND=
redis``), with three properties a plain ``PUBLISH``/``PSUBSCRIBE`` lacks:

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
  back-off (0.1 s to 5 s) and subscribes again; it then delivers :data:`RECONNECTED` to every
  open subscription of the process, so each open stream reads again what it may have missed.
  While Redis is unreachable, :attr:`AuthenticatedRedisBackend.healthy` is false (``/health``
  says degraded).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import struct
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pushauth_server.realtime import Hub


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


def _glob_escaped(text: str) -> str:
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


class AuthenticatedRedisBackend:
    """The Redis backend of :class:`pushauth_server.realtime.Notifier`: sealed ``PUBLISH`` out,
    one pattern subscription (``PSUBSCRIBE <prefix>*``) in, opened and handed to the local hub."""

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
        self._hub: Hub | None = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._down = False
        self._publish_failed = False
        self.state_changed = asyncio.Condition()
        self.reconnects = 0

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

    async def start(self, hub: Hub) -> None:
        """Subscribe now if Redis answers (so subscribing, then reading, loses nothing); if it
        does not, start degraded and keep trying in the background."""
        self._hub = hub
        try:
            await self._connect()
        except Exception as exc:
            logger.warning("Redis is unreachable at start-up (%s): retrying", type(exc).__name__)
            await self._set_down(True)
        self._listener = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._drop()
        await _quietly(self._redis.aclose())

    async def publish(self, data: bytes, channels: tuple[str, ...]) -> None:
        """Publish ``data``, sealed for each channel; raises when Redis cannot take it."""
        try:
            for channel in channels:
                await self._redis.publish(self.prefix + channel, seal(self._key, channel, data))
        except Exception:
            self._publish_failed = True
            raise
        self._publish_failed = False

    async def _drop(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            await _quietly(pubsub.aclose())

    async def _connect(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await self._redis.ping()  # reachable? (a subscription alone may not say)
            await pubsub.psubscribe(_glob_escaped(self.prefix) + "*")
        except BaseException:
            await _quietly(pubsub.aclose())
            raise
        self._pubsub = pubsub
        self._publish_failed = False  # reachable again: the next publish will say otherwise
        if self._down:
            self.reconnects += 1
            assert self._hub is not None
            # Events published meanwhile are lost: every open stream reads its state again.
            self._hub.deliver_everywhere(RECONNECTED)
        await self._set_down(False)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                if self._pubsub is None:
                    await self._connect()
                    delay = 0.1
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.debug("Redis subscription failed: %r", exc)
                await self._drop()
                await self._set_down(True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if message is not None and message.get("type") == "pmessage":
                self._receive(message["channel"], message["data"])

    def _receive(self, full_channel: bytes | str, message: bytes) -> None:
        name = full_channel.decode() if isinstance(full_channel, bytes) else str(full_channel)
        if not name.startswith(self.prefix):
            return
        channel = name[len(self.prefix) :]
        data = unseal(self._key, channel, message)
        if data is None:
            logger.warning(
                "dropped an event on a %s channel that failed authentication "
                "(wrong key, forged, altered or stale)",
                channel.split(":", 1)[0],
            )
            return
        assert self._hub is not None
        self._hub.deliver(data, (channel,))


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("closing a Redis connection failed", exc_info=True)
