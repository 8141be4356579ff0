"""``GET /metrics``: absent unless a token is set, then behind it; and what it counts.

The counts are read back through the endpoint itself (Prometheus text parsed with
prometheus_client's own parser), after real requests: a flow approved, one denied with the wrong
number, a refused API key, a limit refusal. Open streams are counted in
tests/integration/test_metrics_streams.py (an open SSE stream needs a real server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from tests.server.conftest import (
    Device,
    Harness,
    assert_error,
    make_settings,
    running_harness,
)

TOKEN = "mt_" + "t" * 40


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path, metrics_token=TOKEN) as started:
        yield started


async def scrape(harness: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await harness.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def answer(harness: Harness, device: Device, challenge_id: str, code: str) -> None:
    pending = await harness.pending_one(device, challenge_id)
    body = device.identity.response_body(
        pending, decision="approve", reason="", verification_code=code
    )
    response = await harness.post_response(challenge_id, body)
    assert response.status_code == 200, response.text


async def test_no_metrics_route_without_a_token(harness: Harness) -> None:
    response = await harness.client.get("/metrics", headers={"Authorization": "Bearer x" * 3})
    assert_error(response, 404, "route_not_found")


def test_a_short_metrics_token_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 22 characters"):
        make_settings(tmp_path, metrics_token="short-token")


async def test_metrics_need_the_token(metered: Harness) -> None:
    assert_error(await metered.client.get("/metrics"), 401, "invalid_metrics_token")
    wrong = {"Authorization": f"Bearer {TOKEN}x"}
    assert_error(await metered.client.get("/metrics", headers=wrong), 401, "invalid_metrics_token")
    # The relying parties' API key is not the metrics token either.
    api_key = metered.rp_headers
    assert_error(
        await metered.client.get("/metrics", headers=api_key), 401, "invalid_metrics_token"
    )


async def test_challenges_flows_and_refusals_are_counted(metered: Harness) -> None:
    before = await scrape(metered)
    device = await metered.enroll()
    created = await metered.create(device.user_id)
    await answer(metered, device, created["challenge_id"], created["verification_code"])
    wrong_code = await metered.create(device.user_id)
    code = str((int(wrong_code["verification_code"]) + 1) % 10**6).zfill(6)
    await answer(metered, device, wrong_code["challenge_id"], code)  # 200: judged, denied
    refused_key = await metered.client.get("/v1/users", headers={"Authorization": "Bearer no"})
    assert refused_key.status_code == 401
    await metered.create(device.user_id)
    second = await metered.rp("POST", "/v1/challenges", json={"user_id": device.user_id})
    assert_error(second, 409, "challenge_pending")
    after = await scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pushauth_challenges_total", outcome="created", reason="") == 3
    assert grew("pushauth_challenges_total", outcome="approved", reason="") == 1
    assert grew("pushauth_challenges_total", outcome="denied", reason="wrong_code") == 1
    assert grew("pushauth_challenges_total", outcome="refused", reason="challenge_pending") == 1
    assert grew("pushauth_flow_seconds_count", outcome="approved") == 1
    assert grew("pushauth_flow_seconds_count", outcome="denied") == 1
    assert grew("pushauth_refusals_total", code="invalid_api_key") == 1
    assert grew("pushauth_refusals_total", code="challenge_pending") == 1
    assert (
        grew("pushauth_http_requests_total", route="/v1/challenges", method="POST", status="201")
        == 3
    )
    # Every connection went back to the pool.
    assert value(after, "pushauth_db_connections_in_use") == 0


async def test_webhook_hooks_feed_their_metrics(metered: Harness) -> None:
    metrics = metered.services.metrics
    calls = []

    async def queue_age() -> None:  # what the webhooks domain registers: read, then set
        calls.append(1)
        metrics.webhook_queue_age(42.5)

    metrics.on_scrape(queue_age)
    metrics.webhook_delivery("delivered")
    metrics.webhook_delivery("failed")
    samples = await scrape(metered)
    assert calls == [1]
    assert value(samples, "pushauth_webhook_queue_age_seconds") == 42.5
    assert value(samples, "pushauth_webhook_deliveries_total", result="delivered") == 1
    assert value(samples, "pushauth_webhook_deliveries_total", result="failed") == 1


async def test_a_failing_scrape_hook_does_not_fail_the_scrape(metered: Harness) -> None:
    async def broken() -> None:
        raise RuntimeError("the outbox is away")

    metered.services.metrics.on_scrape(broken)
    samples = await scrape(metered)
    assert ("pushauth_device_streams", ()) in samples


async def test_the_request_id_is_returned_and_a_forged_one_is_replaced(harness: Harness) -> None:
    plain = await harness.client.get("/health", headers={"X-Request-ID": "lb-1234567890"})
    assert plain.headers["x-request-id"] == "lb-1234567890"  # a proxy's id is kept
    # A caller must not be able to write into the log lines through the id.
    forged = await harness.client.get("/health", headers={"X-Request-ID": 'x" status=200 evil'})
    assert forged.headers["x-request-id"] != 'x" status=200 evil'
    assert len(forged.headers["x-request-id"]) == 16
    fresh = await harness.client.get("/health")
    assert fresh.headers["x-request-id"] != forged.headers["x-request-id"]


async def test_a_made_up_method_adds_no_label_value(metered: Harness) -> None:
    # Any token is a method to the HTTP parser: counted by name, each would add a series for good.
    before = await scrape(metered)
    for index in range(5):
        response = await metered.client.request(f"BOGUS{index}", "/health")
        assert response.status_code in (404, 405), response.text
    after = await scrape(metered)
    methods = {dict(labels).get("method") for (name, labels) in after if "method" in dict(labels)}
    assert not any(str(method).startswith("BOGUS") for method in methods), methods
    other = sum(
        count - before.get((name, labels), 0.0)
        for (name, labels), count in after.items()
        if name == "pushauth_http_requests_total" and dict(labels)["method"] == "other"
    )
    assert other == 5
