"""Two ``pushauth serve`` processes on one PostgreSQL database (with Redis channels): every
delivery is made by one of them, once (claims with ``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.conftest import StartServer
from tests.integration.test_scale_out import postgres_database  # noqa: F401 (a fixture)
from tests.integration.webhook_steps import (
    WEBHOOK_SETTINGS,
    add_endpoint,
    commands_for,
    deliveries,
    queue_tests,
    verified,
    wait_until,
)
from tests.support.receiver import receiving

pytestmark = pytest.mark.postgres

COUNT = 40


async def test_two_processes_deliver_each_once(
    start_server: StartServer, postgres_database: str
) -> None:
    settings = {
        **WEBHOOK_SETTINGS,
        "channels_backend": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        # Generous: on a loaded machine a slow attempt must not time out and be (rightly) made
        # again, which would look like a duplicate here.
        "webhook_timeout_seconds": "15",
    }
    first = start_server(postgres_database, **settings)
    second = start_server(postgres_database, public_url=first.url, **settings)
    with receiving() as receiver:
        endpoint = add_endpoint(commands_for(first), receiver.url)
        # Queued through both processes at once: each wakes its own worker, and polls for the
        # other's rows, so both claim from the same table at the same time.
        queued = await asyncio.gather(
            queue_tests(first, endpoint["endpoint_id"], COUNT // 2),
            queue_tests(second, endpoint["endpoint_id"], COUNT // 2),
        )
        ids = {delivery_id for batch in queued for delivery_id in batch}
        assert len(ids) == COUNT
        got = {receiver.next().webhook_id for _ in range(COUNT)}
        wait_until(
            lambda: all(d["status"] == "delivered" for d in deliveries(second, limit=1000)),
            "all delivered",
        )
    assert got == ids
    counted = Counter(r.webhook_id for r in receiver.received)
    assert set(counted.values()) == {1}, counted.most_common(3)
    for received in receiver.received:
        verified(received, endpoint["secret"])
