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
