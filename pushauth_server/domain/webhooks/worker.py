"""Delivering the outbox: a task in every server process.

Each pass reads when the next delivery is due (a read: an idle server writes nothing), then
claims what is due with a lease (in one transaction, ``SELECT ... FOR UPDATE SKIP LOCKED`` of
the due rows, then ``UPDATE ... WHERE delivery_id IN (...)`` of the ones picked: on PostgreSQL
two processes never claim the same row; SQLite has one writer), and
sends each claimed delivery once, outside any transaction, in a task of its own: up to
:data:`BATCH` attempts are in flight, at most :data:`PER_ENDPOINT` of them to one endpoint, and a
slow receiver holds only its own (for at most the attempt's timeout), never the deliveries
claimed after it nor, with a backlog, every slot. A 2xx response delivers it; anything
else (an error status, a redirect, which is never followed, a timeout, a refused connection) is
retried with exponential backoff and jitter until its retry period ends; then it is ``failed``
and audited (``webhook.failed``).

The worker wakes at once when its own process commits a delivery (``Outbox.woken``), and polls
for the rest (other processes' events, retries coming due). A process killed mid-delivery
leaves a lease that expires: the delivery is made again, under the same ``webhook-id``. A
graceful stop gives its leases back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pushauth_server.clock import new_id, now_ms
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.webhooks import store
from pushauth_server.domain.webhooks.outbox import Outbox
from pushauth_server.domain.webhooks.sealing import Sealer, SecretUnreadable
from pushauth_server.domain.webhooks.signing import signed_headers
from pushauth_server.observability.metrics import Metrics
from pushauth_server.settings import Settings
from pushauth_server.storage import Database

logger = logging.getLogger("pushauth.webhooks")

BATCH = 16  # attempts in flight at once, at most (each on its own: none waits for another)
PER_ENDPOINT = 4  # of them to one endpoint: a slow receiver's backlog leaves slots to the others
# A background task's name (app.BACKGROUND's prefix): not counted as a request's work.
ATTEMPT_TASK = "pushauth background: webhook attempt"
LEASE_MARGIN_MS = 1_000  # a lease lasts twice the attempt's timeout and this much


class WebhookWorker:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        outbox: Outbox,
        sealer: Sealer,
        audit: AuditLog,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = database
        self._metrics = metrics or Metrics()
        self._settings = settings
        self._outbox = outbox
        self._sealer = sealer
        self._audit = audit
        self.worker_id = new_id("wk")
        self._timeout = settings.webhook_timeout_seconds
        self._http = httpx.AsyncClient(
            follow_redirects=False,  # a redirect is a failed attempt: never sent elsewhere
            timeout=httpx.Timeout(self._timeout),
            headers={"User-Agent": "pushauth-webhooks"},
        )
        self._next_due: int | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._per_endpoint: Counter[str] = Counter()  # attempts in flight, by endpoint id

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled (then the attempts in flight are cancelled too)."""
        woken = self._outbox.woken
        try:
            while True:
                woken.clear()
                try:
                    claimed = await self.run_once()
                except Exception:  # a failed pass (database away) must not stop the next one
                    logger.exception("webhook delivery pass failed")
                    claimed = 0
                if claimed and len(self._in_flight) < BATCH:
                    continue  # look again at once: more may be due, or the next is due soon
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._wait_seconds()):
                        await woken.wait()  # new deliveries, or an attempt ended (a free slot)
        finally:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _wait_seconds(self) -> float:
        wait = self._settings.webhook_poll_seconds
        if self._next_due is not None and len(self._in_flight) < BATCH:
            wait = min(wait, max(0.0, (self._next_due - now_ms()) / 1000))
        return wait

    async def run_once(self) -> int:
        """One pass: claim what is due, as many as there are free slots, and start each
        attempt on its own (a slow receiver holds its own slot only: what is claimed after it
        is delivered meanwhile); returns how many were claimed."""
        free = BATCH - len(self._in_flight)
        if free <= 0:
            return 0
        async with self._db.read() as connection:
            due = await store.next_due(connection)
        self._next_due = due
        if due is None or due > now_ms():
            return 0
        async with self._db.write() as connection:
            now = now_ms()  # the lease starts when the claim is made, after any wait for a lock
            claimed = await store.claim(
                connection,
                worker=self.worker_id,
                now_ms=now,
                lease_until_ms=now + round(2 * self._timeout * 1000) + LEASE_MARGIN_MS,
                limit=free,
                per_endpoint=PER_ENDPOINT,
                in_flight=self._per_endpoint,
            )
            endpoints = (
                await store.endpoints_by_id(
                    connection, sorted({row.endpoint_id for row in claimed})
                )
                if claimed
                else {}
            )
        for row in claimed:
            task = asyncio.create_task(
                self._attempt(row, endpoints.get(row.endpoint_id)), name=ATTEMPT_TASK
            )
            self._in_flight.add(task)
            self._per_endpoint[row.endpoint_id] += 1
            task.add_done_callback(functools.partial(self._attempt_ended, row.endpoint_id))
        return len(claimed)

    def _attempt_ended(self, endpoint_id: str, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._per_endpoint[endpoint_id] -= 1
        if self._per_endpoint[endpoint_id] <= 0:
            del self._per_endpoint[endpoint_id]
        self._outbox.wake()  # a slot is free: look for what is due

    async def _attempt(self, row: Any, endpoint: Any | None) -> None:
        try:
            await self._deliver(row, endpoint)
        except Exception as exc:  # its lease runs out: it is tried again
            logger.error(
                "webhook %s: recording the attempt failed (%s)",
                row.delivery_id,
                type(exc).__name__,
            )

    async def close(self) -> None:
        """Give back this process's leases (a graceful stop) and close the HTTP client."""
        try:
            async with self._db.write() as connection:
                released = await store.release(connection, self.worker_id)
            if released:
                logger.info("released %d webhook deliveries for other processes", released)
        except Exception:  # the leases then expire on their own
            logger.exception("could not release the webhook leases")
        await self._http.aclose()

    # --- one delivery ---------------------------------------------------------------------------

    async def _deliver(self, row: Any, endpoint: Any | None) -> None:
        if endpoint is None:
            await self._finish(row, store.CANCELLED, None, "endpoint removed")
            return
        try:
            keys = self._secrets(endpoint)
        except SecretUnreadable as exc:
            # Never sent unsigned; retried, so it goes out once the right secret is back.
            await self._failed_attempt(row, None, str(exc))
            return
        headers = signed_headers(
            delivery_id=row.delivery_id,
            at_seconds=now_ms() // 1000,
            body=row.payload_json,
            secrets=keys,
        )
        headers["Content-Type"] = "application/json"
        status: int | None = None
        error = ""
        try:
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request(
                    "POST", endpoint.url, content=row.payload_json.encode(), headers=headers
                )
                # The body is never read: only the status matters, and a receiver cannot make
                # us hold a large or slow answer.
                response = await self._http.send(request, stream=True)
                await response.aclose()
                status = response.status_code
        except TimeoutError:
            error = f"no answer within {self._timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: could not reach the endpoint"
        except (httpx.InvalidURL, ValueError) as exc:
            # A stored URL the client cannot request (added before the URL rules refused it):
            # a failed attempt like any other, so it ends as failed instead of going round.
            error = f"{type(exc).__name__}: the endpoint URL cannot be requested"
        if status is not None and 200 <= status < 300:
            async with self._db.write() as connection:
                await store.mark_delivered(
                    connection,
                    row.delivery_id,
                    worker=self.worker_id,
                    status_code=status,
                    now_ms=now_ms(),
                )
            self._metrics.webhook_delivery("delivered")
            logger.info("webhook %s delivered (HTTP %d)", row.delivery_id, status)
            return
        if status is not None:
            error = f"HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else ""
            )
        await self._failed_attempt(row, status, error)

    def _secrets(self, endpoint: Any) -> list[str]:
        keys = [self._sealer.open(endpoint.secret_sealed, endpoint_id=endpoint.endpoint_id)]
        previous = endpoint.previous_secret_sealed
        if previous and (endpoint.previous_until_ms or 0) > now_ms():
            keys.append(self._sealer.open(previous, endpoint_id=endpoint.endpoint_id))
        return keys

    async def _failed_attempt(self, row: Any, status: int | None, error: str) -> None:
        now = now_ms()
        if now >= row.retry_until_ms:
            await self._finish(row, store.FAILED, status, error)
            return
        delay_ms = self._backoff_ms(int(row.attempts))
        async with self._db.write() as connection:
            await store.mark_retry(
                connection,
                row.delivery_id,
                worker=self.worker_id,
                status_code=status,
                error=error,
                next_attempt_at_ms=min(now + delay_ms, int(row.retry_until_ms)),
            )
        self._metrics.webhook_delivery("retried")
        logger.warning(
            "webhook %s attempt %d failed (%s); retrying in %.1f s",
            row.delivery_id,
            row.attempts,
            error,
            delay_ms / 1000,
        )

    def _backoff_ms(self, attempts: int) -> int:
        """Exponential (base, doubling, capped) with jitter: 50-100 % of the step."""
        settings = self._settings
        step = min(
            settings.webhook_retry_base_seconds * 2 ** max(0, attempts - 1),
            settings.webhook_retry_max_interval_seconds,
        )
        jitter = 0.5 + secrets.randbelow(1001) / 2000
        return max(1, int(step * jitter * 1000))

    async def _finish(self, row: Any, status: str, code: int | None, error: str) -> None:
        record: AuditRecord | None = None
        async with self._db.write() as connection:
            held = await store.mark_finished(
                connection,
                row.delivery_id,
                worker=self.worker_id,
                status=status,
                status_code=code,
                error=error,
                now_ms=now_ms(),
            )
            if held and status == store.FAILED:
                record = await audit_log.append(connection, _failed_record(row, code, error))
        if record is not None:
            self._metrics.webhook_delivery("failed")
            await self._audit.publish([record])
            logger.warning(
                "webhook %s failed after %d attempts (%s)", row.delivery_id, row.attempts, error
            )


def queue_age_hook(database: Database, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """A scrape hook (:meth:`Metrics.on_scrape`): the age of the oldest delivery not yet made,
    read from the outbox when Prometheus scrapes (never on a request's path)."""

    async def read_queue_age() -> None:
        async with database.read() as connection:
            oldest = await store.oldest_pending(connection)
        metrics.webhook_queue_age(0.0 if oldest is None else (now_ms() - oldest) / 1000)

    return read_queue_age


def _failed_record(row: Any, code: int | None, error: str) -> AuditRecord:
    data = json.loads(row.payload_json).get("data") or {}
    user_id = data.get("user_id") if isinstance(data, dict) else None
    challenge_id = data.get("challenge_id") if isinstance(data, dict) else None
    return AuditRecord(
        event=AuditEvent.WEBHOOK_FAILED,
        user_id=user_id if isinstance(user_id, str) else None,
        challenge_id=challenge_id if isinstance(challenge_id, str) else None,
        detail={
            "delivery_id": row.delivery_id,
            "endpoint_id": row.endpoint_id,
            "app_id": row.app_id,
            "event": row.event,
            "attempts": int(row.attempts),
            "last_status_code": code,
            "last_error": error[:200],
        },
    )
