"""Prometheus metrics (``GET /metrics``), counted in memory, never with an SQL statement.

One :class:`Metrics` per app. Everything it counts is an in-memory increment on the path that
already does the work (a challenge settled, a stream opened, an error answered); the gauges that
describe shared state (the webhook queue's age) are read when Prometheus scrapes, by callbacks.

**Several workers** (``pushauth serve --workers N``): the parent points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before it starts the workers, so
``prometheus_client`` keeps every value in a small memory-mapped file per process there, and a
scrape answered by any worker adds up all of them (its multiprocess mode). Counters and
histograms are summed over every process that ever ran (a restarted worker's counts are kept);
gauges are summed over the live ones (each worker removes its own at exit, the parent those of a
worker that died).

The public API, for the rest of the server (and the webhooks domain):

* :meth:`Metrics.challenge_created`, :meth:`Metrics.challenge_settled`;
* :meth:`Metrics.stream` / :meth:`Metrics.waiter`: context managers around an open stream;
* :meth:`Metrics.request` (the request log calls it once per request);
* :meth:`Metrics.webhook_delivery` (``"delivered"``, ``"retried"``, ``"failed"``…) and
  :meth:`Metrics.on_scrape` (an ``async`` callback run before each scrape, e.g. to set
  :meth:`Metrics.webhook_queue_age` from the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

logger = logging.getLogger("pushauth.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Create -> resolved, in seconds: a push answered by a person takes seconds; expiries take minutes.
FLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300, 600)
SCRAPE_HOOK_TIMEOUT_SECONDS = 2.0
# The methods counted by name; any other (a client may send any token as a method) is "other",
# so no request can add a label value: the label sets stay bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

ScrapeHook = Callable[[], Awaitable[None]]


def multiprocess_mode() -> bool:
    """True when prometheus_client keeps values in files (``PROMETHEUS_MULTIPROC_DIR`` was set
    when it was first imported): then every process's values are collected together."""
    return values.ValueClass is not values.MutexValue


class Metrics:
    """Every metric pushauth exports. Cheap to update: a lock and an addition per call."""

    def __init__(self) -> None:
        self.shared = multiprocess_mode()
        # Registered here only in one process; across workers, scrape reads the files instead.
        self._registry = CollectorRegistry(auto_describe=True)
        registry = None if self.shared else self._registry
        self._hooks: list[ScrapeHook] = []

        self._challenges = Counter(
            "pushauth_challenges",
            "Challenges by outcome: created, refused (by a limit), approved, denied, expired, "
            "cancelled; reason is the denial reason (user_denied, not_me, wrong_code) or the "
            "refusal's code.",
            ["outcome", "reason"],
            registry=registry,
        )
        self._flow = Histogram(
            "pushauth_flow_seconds",
            "From a challenge's creation to its resolution, by outcome.",
            ["outcome"],
            buckets=FLOW_BUCKETS,
            registry=registry,
        )
        self._streams = Gauge(
            "pushauth_device_streams",
            "Device event streams open now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._waiters = Gauge(
            "pushauth_waiters",
            "Relying parties waiting on a challenge now, by kind (events: SSE, wait: long-poll).",
            ["kind"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._requests = Counter(
            "pushauth_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self._refusals = Counter(
            "pushauth_refusals",
            "Requests refused, by error code (docs/protocol.md, Errors): limits (rate_limited, "
            "challenge_pending, user_locked), authentication failures (invalid_api_key, "
            "invalid_signature, replayed_proof, ...), overload (server_busy) and bad input.",
            ["code"],
            registry=registry,
        )
        self._connection_refusals = Counter(
            "pushauth_connection_refusals",
            "Connections refused or closed by the connection guard, by limit "
            "(total, per_client, read_timeout, request_line, head).",
            ["limit"],
            registry=registry,
        )
        self._db_in_use = Gauge(
            "pushauth_db_connections_in_use",
            "Database connections checked out of the pool now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._webhook_deliveries = Counter(
            "pushauth_webhook_deliveries",
            "Webhook delivery attempts, by result.",
            ["result"],
            registry=registry,
        )
        self._webhook_queue_age = Gauge(
            "pushauth_webhook_queue_age_seconds",
            "Age of the oldest webhook delivery not yet made (0: the queue is empty).",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )

    # --- challenges -----------------------------------------------------------------------------

    def challenge_created(self) -> None:
        self._challenges.labels("created", "").inc()

    def challenge_refused(self, code: str) -> None:
        self._challenges.labels("refused", code).inc()

    def challenge_settled(self, status: str, reason: str | None, seconds: float) -> None:
        """A challenge left ``pending`` (counted once: only the process that won the
        compare-and-set settles it)."""
        self._challenges.labels(status, reason or "").inc()
        self._flow.labels(status).observe(max(seconds, 0.0))

    # --- open streams ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def stream(self) -> Iterator[None]:
        """Around a device's open event stream."""
        self._streams.inc()
        try:
            yield
        finally:
            self._streams.dec()

    @contextlib.contextmanager
    def waiter(self, kind: str) -> Iterator[None]:
        """Around a relying party's wait (``events`` or ``wait``)."""
        gauge = self._waiters.labels(kind)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    # --- requests -------------------------------------------------------------------------------

    def request(self, route: str, method: str, status: int, error_code: str | None) -> None:
        method = method if method in KNOWN_METHODS else "other"
        self._requests.labels(route, method, str(status)).inc()
        if error_code is not None:
            self._refusals.labels(error_code).inc()

    def connection_refused(self, limit: str) -> None:
        self._connection_refusals.labels(limit).inc()

    # --- database -------------------------------------------------------------------------------

    def watch_pool(self, engines: tuple[Any, ...]) -> None:
        """Count checkouts and checkins of ``engines`` (SQLAlchemy pool events: no statement)."""
        from sqlalchemy import event

        for engine in engines:
            event.listen(engine, "checkout", self._checked_out)
            event.listen(engine, "checkin", self._checked_in)

    def _checked_out(self, *_: Any) -> None:
        self._db_in_use.inc()

    def _checked_in(self, *_: Any) -> None:
        self._db_in_use.dec()

    # --- webhooks -------------------------------------------------------------------------------

    def webhook_delivery(self, result: str) -> None:
        """One delivery attempt ended: ``delivered``, ``retried`` (will try again), ``failed``
        (given up), or another short word the webhooks domain documents."""
        self._webhook_deliveries.labels(result).inc()

    def webhook_queue_age(self, seconds: float) -> None:
        self._webhook_queue_age.set(max(seconds, 0.0))

    # --- scraping -------------------------------------------------------------------------------

    def on_scrape(self, hook: ScrapeHook) -> None:
        """Run ``hook`` before each scrape (bounded by a timeout; a failure is logged and the
        scrape answered anyway): for gauges read from shared state, e.g. the webhook queue."""
        self._hooks.append(hook)

    async def render(self) -> bytes:
        """The Prometheus text exposition of every metric (of every worker, with several)."""
        for hook in self._hooks:
            try:
                async with asyncio.timeout(SCRAPE_HOOK_TIMEOUT_SECONDS):
                    await hook()
            except Exception:
                logger.warning("a metrics scrape hook failed", exc_info=True)
        if not self.shared:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """At shutdown: this process's live gauges stop counting (several workers)."""
        if self.shared:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
