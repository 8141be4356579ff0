"""Steps the webhook tests share: a server with webhooks on, an endpoint, events, and checks."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from pushauth_server.client import PushAuthClient, calls
from tests.support.processes import API_KEY, Commands, Server
from tests.support.receiver import Received

# Fast but real: a short poll, and attempts bounded so a test never waits long.
WEBHOOK_SETTINGS = {
    "secret": "webhooks-" + secrets.token_hex(16),
    "webhook_poll_seconds": "0.2",
    "webhook_timeout_seconds": "10",  # generous: a loaded machine must not time attempts out
    "webhook_retry_base_seconds": "0.05",
    "webhook_retry_max_interval_seconds": "0.2",
}


def commands_for(server: Server) -> Commands:
    return Commands(server=server, env_extra={})


def add_endpoint(commands: Commands, url: str, *args: str) -> dict[str, Any]:
    added = commands.pushauth("webhooks", "add", url, "--app", "operator", "--json", *args)
    assert added.returncode == 0, added.stderr
    endpoint: dict[str, Any] = json.loads(added.stdout)
    assert endpoint["secret"].startswith("whsec_")
    return endpoint


def verified(received: Received, secret: str) -> dict[str, Any]:
    """The payload, after the Standard Webhooks library verified its signature with ``secret``."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def deliveries(server: Server, **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.url}/v1/webhooks/deliveries",
        params=params,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait for the server's recorded state to reach ``condition`` (re-read every 50 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def rp_client(server: Server) -> PushAuthClient:
    return PushAuthClient(server.url, api_key=API_KEY)


async def queue_tests(server: Server, endpoint_id: str, count: int) -> list[str]:
    async with rp_client(server) as rp:
        return [
            (await rp.call(calls.send_test_webhook(endpoint_id)))["delivery_id"]
            for _ in range(count)
        ]
