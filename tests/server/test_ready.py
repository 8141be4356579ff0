"""``GET /ready`` in one process on SQLite: ready, no key needed, Redis not configured.

(Its 503 with the database or Redis away, on a real server: tests/integration/test_readiness.py.)
"""

from __future__ import annotations

from tests.server.conftest import Harness


async def test_ready_without_a_key_on_sqlite(harness: Harness) -> None:
    response = await harness.client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not_configured"},
    }


async def test_ready_answers_even_to_an_address_refused_for_failures(harness: Harness) -> None:
    # An address past its failed-request limit is refused everywhere but /health and /ready.
    for _ in range(harness.settings.failed_requests_per_minute):
        await harness.client.get("/v1/users", headers={"Authorization": "Bearer wrong"})
    refused = await harness.client.get("/v1/users", headers=harness.rp_headers)
    assert refused.status_code == 429
    assert (await harness.client.get("/ready")).status_code == 200
