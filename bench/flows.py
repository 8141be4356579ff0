"""One complete push flow, and the two ways it is measured: one at a time, and concurrently.

A flow is what a sign-in costs with nobody slow in the loop:

1. the relying party creates a challenge (``POST /v1/challenges``) and starts waiting on it as
   ``pushauth signin`` does (``GET /v1/challenges/{id}/events``);
2. the device receives the challenge on its open stream;
3. once the relying party is waiting, the "user" reads the number off its screen: the device
   signs an approval with that code and posts it;
4. the relying party's wait returns the approval.

Legs, in milliseconds: **notify** = create sent -> challenge read on the device's stream;
**resolve** = response posted -> relying party has the outcome; **total** = create sent ->
relying party has the outcome. A flow counts as approved only when the server accepted the
signed response *and* the relying party saw ``approved`` by this device's credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

from bench.devices import StreamingDevice
from bench.server import own_cpu_seconds
from bench.stats import summary
from pushauth_server.client import ChallengeState, ClientError, PushAuthClient, calls


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowResult:
    approved: bool
    notify_ms: float = 0.0
    resolve_ms: float = 0.0
    total_ms: float = 0.0
    error: str | None = None


async def push_flow(rp: PushAuthClient, device: StreamingDevice, *, timeout: float) -> FlowResult:
    """Run one complete flow for ``device``'s user; never raises, reports failures instead."""
    created: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            return await _push_flow(rp, device, created)
    except (ClientError, TimeoutError, RuntimeError, StopAsyncIteration) as exc:
        if created:  # leave nothing pending: the server allows one pending challenge per user
            with contextlib.suppress(ClientError):
                await rp.call(calls.cancel_challenge(created[0]))
        return FlowResult(approved=False, error=f"{type(exc).__name__}: {exc}")


async def _push_flow(
    rp: PushAuthClient, device: StreamingDevice, created_ids: list[str]
) -> FlowResult:
    started = time.perf_counter()
    created = await rp.call(
        calls.create_challenge(
            user_id=device.user_id,
            context={"note": "benchmark", "initiator_host": "bench.invalid"},
        )
    )
    created_ids.append(created.challenge_id)
    code_shown: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def device_side() -> tuple[float, float, str]:
        arrived, challenge = await device.next_challenge(created.challenge_id)
        code = await code_shown  # the user types the number the relying party shows
        posted = time.perf_counter()
        result = await device.approve(challenge, code)
        return arrived, posted, result.status

    answering = asyncio.create_task(device_side())
    try:
        async with aclosing(rp.watch_challenge(created.challenge_id)) as states:
            first = await anext(states)  # the relying party is now waiting
            code_shown.set_result(created.verification_code)
            final: ChallengeState = first
            async for state in states:
                final = state
                if state.is_resolved:
                    break
            done = time.perf_counter()
        arrived, posted, answered = await answering
    finally:
        if not answering.done():
            answering.cancel()
        await asyncio.gather(answering, return_exceptions=True)
    approved = (
        answered == "approved"
        and final.status == "approved"
        and final.credential_id == device.identity.credential_id
    )
    return FlowResult(
        approved=approved,
        notify_ms=(arrived - started) * 1000,
        resolve_ms=(done - posted) * 1000,
        total_ms=(done - started) * 1000,
        error=None if approved else f"answered {answered}, relying party saw {final.status}",
    )


def flow_summary(results: list[FlowResult]) -> dict[str, object]:
    ok = [r for r in results if r.approved]
    errors = sorted({r.error for r in results if r.error})
    return {
        "flows": len(results),
        "approved": len(ok),
        "failed": len(results) - len(ok),
        "errors": errors[:5],
        "notify_ms": summary([r.notify_ms for r in ok]),
        "resolve_ms": summary([r.resolve_ms for r in ok]),
        "total_ms": summary([r.total_ms for r in ok]),
    }


async def one_at_a_time(
    rp: PushAuthClient, device: StreamingDevice, *, flows: int, warmup: int, timeout: float
) -> list[FlowResult]:
    """``warmup`` unrecorded flows, then ``flows`` recorded ones, strictly one after another."""
    for _ in range(warmup):
        await push_flow(rp, device, timeout=timeout)
    return [await push_flow(rp, device, timeout=timeout) for _ in range(flows)]


@dataclass(frozen=True, kw_only=True)
class ThroughputResult:
    concurrency: int
    seconds: float
    results: list[FlowResult]
    server_cpu_seconds: float
    loadgen_cpu_seconds: float

    def to_json(self) -> dict[str, object]:
        approved = sum(r.approved for r in self.results)
        per_flow = 1000 / approved if approved else 0.0
        return {
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 3),
            "flows_per_second": round(approved / self.seconds, 1) if self.seconds else 0.0,
            "server_cpu_ms_per_flow": round(self.server_cpu_seconds * per_flow, 3),
            "loadgen_cpu_ms_per_flow": round(self.loadgen_cpu_seconds * per_flow, 3),
            "server_cpu_utilisation": round(self.server_cpu_seconds / self.seconds, 3)
            if self.seconds
            else 0.0,
            **flow_summary(self.results),
        }


async def throughput(
    pairs: list[tuple[PushAuthClient, StreamingDevice]],
    *,
    seconds: float,
    flows_cap: int,
    timeout: float,
    server_cpu: Callable[[], float],
) -> ThroughputResult:
    """Each relying party runs flows with its device back to back until time (or cap) is up."""
    for rp, device in pairs:  # one unrecorded flow each, so every connection is warm
        await push_flow(rp, device, timeout=timeout)
    results: list[FlowResult] = []
    started = time.perf_counter()
    deadline = started + seconds
    cpu_server, cpu_self = server_cpu(), own_cpu_seconds()

    async def loop(rp: PushAuthClient, device: StreamingDevice) -> None:
        while time.perf_counter() < deadline and len(results) < flows_cap:
            results.append(await push_flow(rp, device, timeout=timeout))

    await asyncio.gather(*(loop(rp, device) for rp, device in pairs))
    elapsed = time.perf_counter() - started
    return ThroughputResult(
        concurrency=len(pairs),
        seconds=elapsed,
        results=results,
        server_cpu_seconds=server_cpu() - cpu_server,
        loadgen_cpu_seconds=own_cpu_seconds() - cpu_self,
    )
