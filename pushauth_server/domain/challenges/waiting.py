"""Waiting for a challenge to resolve, for relying parties: the long-poll and the SSE stream.

The waiter subscribes before it reads, so a resolution between the two is never missed, and it
expires the challenge itself when its time is up rather than trusting a timer elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from pushauth_server.clock import now_ms
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.service import ChallengeService
from pushauth_server.realtime import EventReader, Notifier, challenge_channel


async def watch(
    *,
    challenges: ChallengeService,
    notifier: Notifier,
    challenge_id: str,
    timeout: float | None,
    keepalive: float,
) -> AsyncIterator[Challenge | None]:
    """Yield the challenge's current state, ``None`` as keep-alives, then its final state.

    Stops after a terminal state, or after ``timeout`` seconds with the challenge still pending.
    """
    started = time.monotonic()
    async with notifier.subscribe(challenge_channel(challenge_id)) as subscriber:
        reader = EventReader(subscriber)
        try:
            challenge = await challenges.get(challenge_id)
            yield challenge
            while not challenge.status.is_terminal:
                to_expiry = (challenge.expires_at_ms - now_ms()) / 1000
                wait = min(keepalive, max(to_expiry, 0))
                if timeout is not None:
                    left = timeout - (time.monotonic() - started)
                    if left <= 0:
                        return
                    wait = min(wait, left)
                event = await reader.next(wait)
                if reader.closed:
                    return
                if event is None and to_expiry > wait:
                    yield None  # keep-alive
                    continue
                challenge = await challenges.get(challenge_id)  # expires it if due
                if challenge.status.is_terminal:
                    yield challenge
        finally:
            reader.close()
