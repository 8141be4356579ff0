"""A receiver that answers slowly holds its own delivery only, never the others."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from tests.server.conftest import Harness, running_harness
from tests.support.receiver import receiving
from tests.webhooks.test_metrics import SECRET, _status, until


async def _endpoint(harness: Harness, url: str) -> str:
    added = await harness.rp("POST", "/v1/webhooks", json={"url": url, "app": "operator"})
    assert added.status_code == 201, added.text
    return str(added.json()["endpoint_id"])


async def _queue_test(harness: Harness, endpoint_id: str) -> str:
    queued = await harness.rp("POST", f"/v1/webhooks/{endpoint_id}/test")
    assert queued.status_code == 202, queued.text
    return str(queued.json()["delivery_id"])


async def test_a_held_delivery_does_not_hold_the_next_one(tmp_path: Path) -> None:
    release = threading.Event()
    with receiving() as slow, receiving() as fast:
        slow.hold_next = release  # has the request, does not answer (until released)
        # The slow attempt's timeout is far longer than the test waits for the fast one.
        async with running_harness(tmp_path, secret=SECRET, webhook_timeout_seconds=60) as harness:
            try:
                slow_id = await _queue_test(harness, await _endpoint(harness, slow.url))
                await asyncio.to_thread(slow.next, 30)  # the slow attempt is in flight
                fast_id = await _queue_test(harness, await _endpoint(harness, fast.url))
                received = await asyncio.to_thread(fast.next, 30)
                assert received.webhook_id == fast_id
                assert not release.is_set()  # while the slow one is still held

                async def fast_delivered() -> bool:
                    return (await _status(harness, fast_id))[0] == "delivered"

                await until(fast_delivered, "the fast delivery recorded")
                assert (await _status(harness, slow_id))[0] == "pending"
            finally:
                release.set()

            async def slow_delivered() -> bool:
                return (await _status(harness, slow_id))[0] == "delivered"

            await until(slow_delivered, "the slow delivery recorded once answered")


async def test_a_silent_receivers_backlog_leaves_slots_to_the_others(tmp_path: Path) -> None:
    release = threading.Event()
    with receiving() as silent, receiving() as fast:
        silent.hold_all = release  # takes every request, answers none (until released)
        async with running_harness(
            tmp_path, secret=SECRET, webhook_timeout_seconds=60, webhook_poll_seconds=3600
        ) as harness:
            try:
                silent_endpoint = await _endpoint(harness, silent.url)
                backlog = [await _queue_test(harness, silent_endpoint) for _ in range(20)]
                await asyncio.to_thread(silent.next, 30)  # its attempts are under way
                fast_id = await _queue_test(harness, await _endpoint(harness, fast.url))
                received = await asyncio.to_thread(fast.next, 30)  # queued after all 20
                assert received.webhook_id == fast_id
                assert not release.is_set()
                assert len(silent.received) <= 4  # the cap per endpoint: slots stay free
            finally:
                release.set()

            async def all_delivered() -> bool:
                states = [(await _status(harness, one))[0] for one in backlog]
                return states == ["delivered"] * len(backlog)

            await until(all_delivered, "the backlog delivered once the receiver answers")
