"""Simulated devices built on the project's client library: real keys, signatures and streams.

Each device holds a real Ed25519 key in memory, enrolls with a single-use token through the real
API, and follows its SSE stream with :meth:`PushAuthClient.device_stream`. The time a challenge
arrives is stamped the moment its event is read, so the flow measuring it sees the true arrival
even if it starts looking later.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from dataclasses import dataclass, field

import httpx

from pushauth_server.client import (
    DeviceIdentity,
    PendingChallenge,
    PushAuthClient,
    ResponseResult,
    calls,
    enrollment_proof,
)
from pushauth_server.protocol import generate_private_key


class StreamClosed(RuntimeError):
    """A simulated device's stream ended or failed while a flow needed it."""


def relying_party(base_url: str, api_key: str, *, connections: int = 4) -> PushAuthClient:
    """One relying-party client whose pool lets ``connections`` requests run at once.

    Keep pools small and give each simulated relying party its own: httpcore assigns requests
    to connections by scanning the whole pool on every request, so one pool shared by hundreds
    of concurrent requests spends more CPU in that scan than in HTTP (profiled: 45% of the load
    generator's time at 64 concurrent enrollments).
    """
    http = httpx.AsyncClient(
        base_url=base_url,
        timeout=30.0,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        headers={"User-Agent": "pushauth-bench"},
    )
    return PushAuthClient(base_url, api_key=api_key, http=http)


async def enroll(rp: PushAuthClient, *, origin: str, user_id: str) -> DeviceIdentity:
    """Issue a token for ``user_id`` (relying party) and redeem it with a fresh key (device)."""
    token = await rp.call(calls.issue_enrollment_token(user_id))
    private_key = generate_private_key()
    body = enrollment_proof(
        private_key, origin=origin, token=token.token, device_name=f"bench-{user_id}"
    )
    registration = await rp.call(calls.register(**body))  # unauthenticated: no API key is sent
    return DeviceIdentity(
        origin=registration.origin,
        credential_id=registration.credential_id,
        private_key=private_key,
    )


async def enroll_many(
    base_url: str, api_key: str, *, origin: str, user_ids: list[str], concurrency: int
) -> list[DeviceIdentity]:
    """Enroll one device per user, ``concurrency`` at a time, in the order of ``user_ids``.

    Each of the ``concurrency`` workers is its own relying party with its own small pool.
    """
    identities: list[DeviceIdentity | None] = [None] * len(user_ids)
    indexes = iter(range(len(user_ids)))

    async def worker() -> None:
        async with relying_party(base_url, api_key, connections=2) as rp:
            for index in indexes:
                identities[index] = await enroll(rp, origin=origin, user_id=user_ids[index])

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(user_ids)))))
    return [identity for identity in identities if identity is not None]


@dataclass(eq=False)
class StreamingDevice:
    """A device following its stream; :meth:`next_challenge` hands out stamped arrivals."""

    user_id: str
    identity: DeviceIdentity
    client: PushAuthClient
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: asyncio.Queue[tuple[float, PendingChallenge]] = field(default_factory=asyncio.Queue)
    failure: BaseException | None = None
    _task: asyncio.Task[None] | None = None

    @classmethod
    def for_identity(cls, base_url: str, user_id: str, identity: DeviceIdentity) -> StreamingDevice:
        return cls(
            user_id=user_id, identity=identity, client=PushAuthClient(base_url, identity=identity)
        )

    async def connect(self, timeout: float) -> None:
        """Open the stream and return once the server says it is subscribed (``ready``)."""
        self._task = asyncio.create_task(self._follow(), name=f"stream-{self.user_id}")
        async with asyncio.timeout(timeout):
            await self.ready.wait()
        if self.failure is not None:
            raise StreamClosed(f"{self.user_id}: {self.failure!r}") from self.failure

    async def _follow(self) -> None:
        try:
            async with aclosing(self.client.device_stream()) as stream:
                async for event in stream:
                    arrived = time.perf_counter()
                    if event.kind == "challenge" and event.challenge is not None:
                        self.arrivals.put_nowait((arrived, event.challenge))
                    elif event.kind == "ready":
                        self.ready.set()
            self.failure = StreamClosed("the server closed the stream")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported by the flow that was waiting for an event
            self.failure = exc
        finally:
            self.ready.set()
            self.arrivals.put_nowait((time.perf_counter(), _CLOSED))

    async def next_challenge(self, challenge_id: str) -> tuple[float, PendingChallenge]:
        """When ``challenge_id`` arrived on the stream (perf_counter seconds), and the challenge."""
        while True:
            arrived, challenge = await self.arrivals.get()
            if challenge is _CLOSED:
                raise StreamClosed(f"{self.user_id}: stream ended ({self.failure!r})")
            if challenge.challenge_id == challenge_id:
                return arrived, challenge

    async def approve(self, challenge: PendingChallenge, code: str) -> ResponseResult:
        body = self.identity.response_body(challenge, decision="approve", verification_code=code)
        return await self.client.call(calls.respond(challenge.challenge_id, body))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.aclose()


_CLOSED = PendingChallenge(
    challenge_id="",
    user_id="",
    action="",
    shown={},
    custom={},
    nonce="",
    number_matching=True,
    code_digits=6,
    created_at_ms=0,
    expires_at_ms=0,
)
