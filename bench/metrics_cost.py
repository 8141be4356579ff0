"""``python -m bench.metrics_cost``: the CPU the metrics and the request log add to one flow.

The whole-server benchmark measures CPU per flow to about ±15 % on a shared machine, far more
than what counting costs, so this measures the added work itself, in process: what one flow does
to :class:`~pushauth_server.observability.metrics.Metrics` and
:class:`~pushauth_server.observability.request_log.RequestLog` (three requests — create, the
relying party's wait, the device's answer — one challenge created and settled, one waiter, four
pool checkouts and checkins; docs/performance.md), timed over many repetitions, best of five.
The request log is at ``--log-level warning`` here, as in the benchmark (no line is written);
the cost of writing a line is measured separately.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pushauth_server.observability.metrics import Metrics
from pushauth_server.observability.request_log import RequestLog

REPEAT = 20_000
HEADERS = [
    (b"host", b"127.0.0.1:8300"),
    (b"user-agent", b"python-httpx/0.28"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"authorization", b"Bearer pak_..."),
    (b"content-type", b"application/json"),
]


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _send(message: Any) -> None:
    return None


async def _receive() -> Any:
    return {"type": "http.request", "body": b""}


def _scope(route: str) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "headers": HEADERS, "path_template": route}


async def _requests(app: Any, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        for route in ("/v1/challenges", "/v1/challenges/{challenge_id}/events", "/x/response"):
            await app(_scope(route), _receive, _send)
    return (time.perf_counter() - started) / repeat


def _counting(metrics: Metrics, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        metrics.challenge_created()
        with metrics.waiter("events"):
            pass
        for _ in range(4):
            metrics._checked_out()
            metrics._checked_in()
        metrics.challenge_settled("approved", None, 1.5)
    return (time.perf_counter() - started) / repeat


def main() -> None:
    logging.getLogger("pushauth.request").setLevel(logging.WARNING)
    metrics = Metrics()
    best: dict[str, float] = {}
    for _ in range(5):
        bare = asyncio.run(_requests(_app, REPEAT))
        logged = asyncio.run(_requests(RequestLog(_app, metrics), REPEAT))
        counted = _counting(metrics, REPEAT)
        for name, seconds in (("request log", logged - bare), ("counting", counted)):
            best[name] = min(best.get(name, float("inf")), seconds)
    total = sum(best.values())
    for name, seconds in best.items():
        print(f"{name:12} {seconds * 1e6:6.1f} µs per flow")
    print(f"{'total':12} {total * 1e6:6.1f} µs per flow")


if __name__ == "__main__":
    main()
