"""``/ready`` follows the database and Redis; ``/health`` stays up throughout.

A real ``pushauth serve`` on PostgreSQL (reached through a TCP proxy the test cuts and restores)
and a private ``redis-server`` (which the test stops and starts again on the same port). The test
waits for each state by asking again until it is seen (bounded), never by sleeping.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.integration.test_scale_out import postgres_database  # noqa: F401  (a fixture)
from tests.support.processes import running_server
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401  (a fixture)
from tests.support.tcp_proxy import tcp_proxy

pytestmark = pytest.mark.postgres


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw: {what}")
        pause.wait(0.05)


def test_ready_follows_the_database_and_redis_while_health_stays_up(
    postgres_database: str,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    database = make_url(postgres_database)
    with tcp_proxy(database.host or "127.0.0.1", database.port or 5432) as proxy:
        proxied = database.set(port=proxy.port).render_as_string(hide_password=False)
        settings = {
            "PUSHAUTH_CHANNELS_BACKEND": "redis",
            "PUSHAUTH_REDIS_URL": redis_server.url,
            "PUSHAUTH_SECRET": "ready-" + secrets.token_hex(16),
        }
        with (
            running_server(tmp_path, proxied, settings) as server,
            httpx.Client(base_url=server.url, timeout=10) as http,
        ):

            def ready_is(status: int, unreachable: list[str] | None = None) -> Callable[[], bool]:
                def check() -> bool:
                    response = http.get("/ready")
                    if response.status_code != status:
                        return False
                    body = response.json()
                    if status == 200:
                        return bool(body["status"] == "ready")
                    error = body["error"]
                    return bool(
                        error["code"] == "not_ready"
                        and error["details"]["unreachable"] == unreachable
                        and response.headers["retry-after"].isdigit()
                    )

                return check

            def alive() -> None:
                health = http.get("/health")
                assert health.status_code == 200

            wait_until("ready at start", ready_is(200))
            assert http.get("/ready").json()["checks"] == {"database": "ok", "redis": "ok"}

            redis_server.stop()
            wait_until("not ready without Redis", ready_is(503, ["redis"]))
            alive()
            redis_server.start()
            wait_until("ready again with Redis back", ready_is(200))

            proxy.cut()
            wait_until("not ready without the database", ready_is(503, ["database"]))
            alive()
            details = http.get("/ready").json()["error"]["details"]
            assert details["checks"] == {"database": "unreachable", "redis": "ok"}
            proxy.restore()
            wait_until("ready again with the database back", ready_is(200))
            alive()
