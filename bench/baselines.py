"""The two baselines measured against the same server in the same run.

* **Floor**: ``GET /health`` through the same client library — the fastest any request can be on
  this stack and this machine. Its rate at full concurrency bounds every other rate.
* **Polling**: the design pushauth replaces, from the guide it supersedes. The relying party asks
  for the challenge's state every ``rp_poll_seconds`` (2 s), and the device asks for its pending
  list every ``device_poll_seconds`` (3 s, from a random phase, as independent phones would).
  Same server, same signed responses, same verification; only the waiting is by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.flows import FlowResult
from bench.stats import summary
from pushauth_server.client import (
    ClientError,
    DeviceIdentity,
    PendingChallenge,
    PushAuthClient,
    calls,
)


async def health_floor(
    rps: list[PushAuthClient],
    *,
    seconds: float,
    round_trips: int,
    server_cpu: Callable[[], float],
) -> dict[str, object]:
    """Requests per second with every client calling at once, latency one at a time, and the
    server's CPU time per request (the unit the cost of a flow is compared with)."""
    rp = rps[0]
    for _ in range(min(50, round_trips)):  # warm the connection
        await rp.call(calls.health())
    latencies: list[float] = []
    for _ in range(round_trips):
        started = time.perf_counter()
        await rp.call(calls.health())
        latencies.append((time.perf_counter() - started) * 1000)

    done = 0
    cpu_before = server_cpu()
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(client: PushAuthClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await client.call(calls.health())
            done += 1

    await asyncio.gather(*(loop(client) for client in rps))
    elapsed = time.perf_counter() - started
    cpu = server_cpu() - cpu_before
    return {
        "concurrency": len(rps),
        "requests": done,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(done / elapsed, 1),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(done, 1), 4),
        "round_trip_ms": summary(latencies),
    }


@dataclass(eq=False)
class PollingDevice:
    """A device that never holds a stream: it asks for its pending list on a fixed period."""

    user_id: str
    identity: DeviceIdentity
    client: PushAuthClient
    period: float
    codes: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    seen: dict[str, tuple[float, float, str]] = field(default_factory=dict)

    async def run(self, deadline: float) -> None:
        """Poll until ``deadline``; answer each new challenge with the code its user was shown."""
        await asyncio.sleep(random.uniform(0, self.period))  # a phase, not a secret
        while time.perf_counter() < deadline:
            with contextlib.suppress(ClientError):
                for challenge in await self.client.call(calls.pending_challenges()):
                    if challenge.challenge_id not in self.seen:
                        await self._answer(challenge, time.perf_counter())
            await asyncio.sleep(self.period)

    async def _answer(self, challenge: PendingChallenge, noticed: float) -> None:
        verification_code = await code_for(self.codes, challenge.challenge_id)
        posted = time.perf_counter()
        body = self.identity.response_body(
            challenge, decision="approve", verification_code=verification_code
        )
        result = await self.client.call(calls.respond(challenge.challenge_id, body))
        self.seen[challenge.challenge_id] = (noticed, posted, result.status)


def code_for(codes: dict[str, asyncio.Future[str]], challenge_id: str) -> asyncio.Future[str]:
    """The number shown for ``challenge_id``, whichever side (screen or device) gets there first."""
    if challenge_id not in codes:
        codes[challenge_id] = asyncio.get_running_loop().create_future()
    return codes[challenge_id]


async def polling_flow(
    rp: PushAuthClient, device: PollingDevice, *, rp_period: float, timeout: float
) -> FlowResult:
    try:
        async with asyncio.timeout(timeout):
            started = time.perf_counter()
            created = await rp.call(
                calls.create_challenge(user_id=device.user_id, context={"note": "polling"})
            )
            code_for(device.codes, created.challenge_id).set_result(created.verification_code)
            while True:
                await asyncio.sleep(rp_period)
                state = await rp.call(calls.get_challenge(created.challenge_id))
                if state.is_resolved:
                    break
            done = time.perf_counter()
    except (ClientError, TimeoutError) as exc:
        return FlowResult(approved=False, error=f"{type(exc).__name__}: {exc}")
    noticed, posted, answered = device.seen.get(created.challenge_id, (done, done, "unanswered"))
    approved = (
        answered == "approved"
        and state.status == "approved"
        and state.credential_id == device.identity.credential_id
    )
    return FlowResult(
        approved=approved,
        notify_ms=(noticed - started) * 1000,
        resolve_ms=(done - posted) * 1000,
        total_ms=(done - started) * 1000,
        error=None if approved else f"answered {answered}, relying party saw {state.status}",
    )


async def polling_baseline(
    pairs: list[tuple[PushAuthClient, PollingDevice]],
    *,
    flows_per_device: int,
    rp_period: float,
    timeout: float,
) -> list[FlowResult]:
    """Each device's relying party runs ``flows_per_device`` polling flows back to back."""
    # Each device polls until its relying party has finished, bounded by the timeouts.
    deadline = time.perf_counter() + flows_per_device * timeout
    pollers = [asyncio.create_task(device.run(deadline)) for _, device in pairs]
    results: list[FlowResult] = []

    async def relying_party(rp: PushAuthClient, device: PollingDevice) -> None:
        for _ in range(flows_per_device):
            results.append(await polling_flow(rp, device, rp_period=rp_period, timeout=timeout))

    try:
        await asyncio.gather(*(relying_party(rp, device) for rp, device in pairs))
    finally:
        for poller in pollers:
            poller.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    return results
