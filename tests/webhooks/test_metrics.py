"""The webhook metrics docs/operations.md promises, counted by the real worker.

``pushauth_webhook_deliveries_total{result}`` grows with each attempt the worker makes against a
real receiver on 127.0.0.1, and ``pushauth_webhook_queue_age_seconds`` is the age of the oldest
delivery not yet made, read from the outbox when /metrics is scraped (the "webhooks stuck"
alert is built on both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from pushauth_server.clock import now_ms
from pushauth_server.storage.tables import webhook_deliveries
from tests.server.conftest import Harness, running_harness
from tests.server.test_metrics import TOKEN, scrape, value
from tests.support.receiver import Receiver, receiving

SECRET = "unit-deployment-secret-" + "s" * 20


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a condition the worker makes true (checked again and again, up to 30 s)."""
    for _ in range(1500):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not seen within 30 s: {what}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with receiving() as started:
        yield started


async def _status(harness: Harness, delivery_id: str) -> tuple[str, int | None]:
    """The delivery's status and the HTTP status of its last recorded attempt."""
    d = webhook_deliveries.c
    async with harness.db.read() as connection:
        row = (
            await connection.execute(
                select(d.status, d.last_status_code).where(d.delivery_id == delivery_id)
            )
        ).one()
    return str(row.status), row.last_status_code


async def _queue_test(harness: Harness, url: str) -> str:
    added = await harness.rp("POST", "/v1/webhooks", json={"url": url, "app": "operator"})
    assert added.status_code == 201, added.text
    queued = await harness.rp("POST", f"/v1/webhooks/{added.json()['endpoint_id']}/test")
    assert queued.status_code == 202, queued.text
    return str(queued.json()["delivery_id"])


async def test_delivery_results_are_counted(tmp_path: Path, receiver: Receiver) -> None:
    receiver.answers = [500]  # the first attempt fails, the retry delivers
    async with running_harness(
        tmp_path, secret=SECRET, metrics_token=TOKEN, webhook_retry_base_seconds=0.01
    ) as harness:
        before = await scrape(harness)
        delivery_id = await _queue_test(harness, receiver.url)

        async def delivered() -> bool:
            return (await _status(harness, delivery_id))[0] == "delivered"

        await until(delivered, "the retry delivered")
        after = await scrape(harness)
    for result in ("retried", "delivered"):
        grew = value(after, "pushauth_webhook_deliveries_total", result=result) - value(
            before, "pushauth_webhook_deliveries_total", result=result
        )
        assert grew == 1, result
    assert value(after, "pushauth_webhook_queue_age_seconds") == 0  # nothing left to make


async def test_queue_age_is_the_oldest_pending_delivery(tmp_path: Path, receiver: Receiver) -> None:
    receiver.default = 503  # down: the delivery stays pending, retried in an hour
    async with running_harness(
        tmp_path, secret=SECRET, metrics_token=TOKEN, webhook_retry_base_seconds=3600
    ) as harness:
        delivery_id = await _queue_test(harness, receiver.url)

        async def tried() -> bool:
            return await _status(harness, delivery_id) == ("pending", 503)

        await until(tried, "the first attempt recorded")
        async with harness.db.write() as connection:  # queued two minutes ago
            await connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == delivery_id)
                .values(created_at_ms=now_ms() - 120_000)
            )
        samples = await scrape(harness)
        assert value(samples, "pushauth_webhook_deliveries_total", result="retried") >= 1
    age = value(samples, "pushauth_webhook_queue_age_seconds")
    assert 120 <= age < 600, age
