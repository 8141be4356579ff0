"""Waiting for a challenge to resolve, for relying parties: the long-poll and the SSE stream.

The waiter subscribes, then reads the challenge once; from then on the published resolution
(the relying party's whole view, encoded once by whoever settled it) is all it needs, so it never
reads the database again. When the challenge's time is up it expires it itself (one
compare-and-set, whose resolution it then hears like any other) rather than trusting a timer
elsewhere. Should no resolution arrive even then (an event lost in transport), it reads once more;
so it does when the real-time backend says it reconnected after an outage.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from datetime import datetime

from pushauth_server import events
from pushauth_server.clock import now_ms
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.challenges.service import ChallengeService
from pushauth_server.realtime import EventReader, Notifier, challenge_channel, is_reconnected

# After the expiry, how long to wait for its resolution event before reading the state instead.
_LOST_EVENT_GRACE_SECONDS = 2.0


async def watch(
    *,
    challenges: ChallengeService,
    notifier: Notifier,
    challenge_id: str,
    timeout: float | None,
    keepalive: float,
    app: AppIdentity | None = None,
) -> AsyncGenerator[bytes | None, None]:
    """Yield the challenge's current view (encoded JSON), ``None`` as keep-alives, then its final
    view. Stops after a terminal state, or after ``timeout`` seconds with it still pending.
    ``app``: the calling application, which must be allowed to see the challenge."""
    started = time.monotonic()
    async with notifier.subscribe(challenge_channel(challenge_id)) as subscriber:
        reader = EventReader(subscriber)
        first = await challenges.view(challenge_id, app)
        yield events.encode(first)
        if first.status != "pending":
            return
        expires_at_ms = _expires_at_ms(first.expires_at)
        expiry_handled = False
        while True:
            to_expiry = (expires_at_ms - now_ms()) / 1000
            wait = keepalive if expiry_handled else min(keepalive, max(to_expiry, 0))
            if expiry_handled:
                wait = min(wait, _LOST_EVENT_GRACE_SECONDS)
            if timeout is not None:
                left = timeout - (time.monotonic() - started)
                if left <= 0:
                    return
                wait = min(wait, left)
            data = await reader.next(wait)
            if data is not None and is_reconnected(data):
                # Back from a Redis outage: its resolution may have been lost. Read once.
                view = await challenges.view(challenge_id, app)
                if view.status != "pending":
                    yield events.encode(view)
                    return
                continue
            if data is not None:
                yield data  # the final view, exactly as published
                return
            if reader.closed:
                return
            if now_ms() < expires_at_ms:
                yield None  # keep-alive
            elif not expiry_handled:
                expiry_handled = True
                await challenges.expire_now(challenge_id)  # its resolution is published
            else:  # the expiry passed and no resolution was heard: read it once
                view = await challenges.view(challenge_id)
                if view.status != "pending":
                    yield events.encode(view)
                    return


def _expires_at_ms(iso_time: str) -> int:
    return round(datetime.fromisoformat(iso_time).timestamp() * 1000)
