"""Bounded noise: what failed authentications may cost the audit trail and the database.

Every rejected request is worth a record, but an append-only trail that anyone can grow by
sending bad requests is a liability. So:

* **Per client address**, failures are counted in one-minute windows. A client with
  ``limit_per_minute`` failures is answered ``429 rate_limited`` with ``Retry-After`` until its
  window ends, *before* its request reaches any handler or the database (:class:`ClientLimiter`,
  checked by the middleware in :func:`middleware`).
* **Per (event, client address, credential or application)**, the first failure of a window is
  written at once (``detail.count`` = 1); the further ones in the window are only counted, and
  written as one row carrying their count when the window ends (:class:`Aggregator`). At most one
  row per key and window after the first.
* **In all**, failure rows are capped at ``rows_per_minute``; past the cap, failures are counted
  per event and written as a single ``security.failures_suppressed`` row per minute. Nothing an
  unauthenticated client sends can make the server write more than ``rows_per_minute + 1`` rows
  a minute, and memory holds at most ``rows_per_minute`` keys.

Counts live in memory, per process: a restart forgets them (the rows already written stay), and
with several processes each applies its own bound. Pending counts are written at shutdown.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pushauth_server import errors
from pushauth_server.clock import iso, now_ms
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.observability.request_log import note_error

WINDOW_MS = 60_000
logger = logging.getLogger("pushauth.audit")

# The client address of the request being handled (set by the middleware).
client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pushauth_client_address", default=None
)


@dataclass(kw_only=True, slots=True)
class _Window:
    start_ms: int
    count: int = 0


class ClientLimiter:
    """Failures per client address per minute; over the limit, the address is refused."""

    def __init__(self, limit_per_minute: int) -> None:
        self.limit = limit_per_minute
        self._windows: dict[str, _Window] = {}

    def _window(self, address: str, now: int) -> _Window:
        window = self._windows.get(address)
        if window is None or now - window.start_ms >= WINDOW_MS:
            window = self._windows[address] = _Window(start_ms=now)
        return window

    def retry_after(self, address: str, now: int | None = None) -> int | None:
        """Seconds until ``address`` may try again, or None if it may now."""
        now = now_ms() if now is None else now
        window = self._windows.get(address)
        if window is None or window.count < self.limit or now - window.start_ms >= WINDOW_MS:
            return None
        return max(1, -(-(window.start_ms + WINDOW_MS - now) // 1000))

    def fail(self, address: str, now: int | None = None) -> None:
        now = now_ms() if now is None else now
        if len(self._windows) > 100_000:  # many addresses: forget the ended windows
            self._windows = {a: w for a, w in self._windows.items() if now - w.start_ms < WINDOW_MS}
        self._window(address, now).count += 1


Key = tuple[str, str, str]  # (event, client address, credential id or application id)


@dataclass(kw_only=True, slots=True)
class _Aggregate:
    record: AuditRecord
    start_ms: int
    repeats: int = 0


@dataclass(kw_only=True)
class Aggregator:
    """Folds repeated failures into counted rows; ``write`` appends one row to the trail."""

    write: Callable[[AuditRecord], Awaitable[None]]
    rows_per_minute: int
    _open: dict[Key, _Aggregate] = field(default_factory=dict)
    _minute_start: int = 0
    _rows_this_minute: int = 0
    _suppressed: dict[str, int] = field(default_factory=dict)

    async def failed(self, record: AuditRecord, address: str | None) -> None:
        now = now_ms()
        # Who failed: a device's credential, or the application of a valid key that was refused
        # a scope or a user (so each application's refusals keep their own row).
        who = record.credential_id or str((record.detail or {}).get("app_id") or "")
        key = (record.event.value, address or "", who)
        aggregate = self._open.get(key)
        if aggregate is not None and now - aggregate.start_ms < WINDOW_MS:
            aggregate.repeats += 1
            return
        if aggregate is not None:  # its window ended without a flush yet: write it first
            await self._flush_one(key, aggregate, now)
        if not self._take_row(now):
            self._suppressed[record.event.value] = self._suppressed.get(record.event.value, 0) + 1
            return
        detail = {**(record.detail or {}), "client": address, "count": 1}
        self._open[key] = _Aggregate(record=record, start_ms=now)
        await self.write(replace(record, detail=detail))

    def _take_row(self, now: int) -> bool:
        if now - self._minute_start >= WINDOW_MS:
            self._minute_start, self._rows_this_minute = now, 0
        if self._rows_this_minute >= self.rows_per_minute:
            return False
        self._rows_this_minute += 1
        return True

    async def _flush_one(self, key: Key, aggregate: _Aggregate, now: int) -> None:
        del self._open[key]
        if not aggregate.repeats:
            return
        if not self._take_row(now):
            event = aggregate.record.event.value
            self._suppressed[event] = self._suppressed.get(event, 0) + aggregate.repeats
            return
        record = aggregate.record
        detail = {
            **(record.detail or {}),
            "client": key[1] or None,
            "count": aggregate.repeats,
            "repeated": True,
            "first_at": iso(aggregate.start_ms),
            "window_seconds": WINDOW_MS // 1000,
        }
        await self.write(replace(record, at_ms=now, detail=detail))

    async def flush(self, *, everything: bool = False) -> None:
        """Write the windows that have ended (all of them with ``everything``, at shutdown)."""
        now = now_ms()
        for key, aggregate in list(self._open.items()):
            if everything or now - aggregate.start_ms >= WINDOW_MS:
                await self._flush_one(key, aggregate, now)
        if self._suppressed and (everything or now - self._minute_start >= WINDOW_MS):
            counts, self._suppressed = self._suppressed, {}
            await self.write(
                AuditRecord(
                    event=AuditEvent.FAILURES_SUPPRESSED,
                    at_ms=now,
                    detail={"counts": counts, "count": sum(counts.values())},
                )
            )


def refused(retry_after: int) -> errors.RateLimited:
    return errors.RateLimited(
        "Too many failed requests from this address; wait before trying again.",
        retry_after_seconds=retry_after,
    )


ASGIApp = Callable[..., Awaitable[None]]


async def _send_refusal(send: Any, wait: int) -> None:
    error = refused(wait)
    body = json.dumps(
        {"error": {"code": error.code, "message": error.message, "details": error.details}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(wait).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def middleware(limiter: ClientLimiter) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: remember the client address; refuse one over its failure limit."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            client = scope.get("client")
            address = str(client[0]) if client else None
            token = client_address.set(address)
            try:
                wait = limiter.retry_after(address) if address else None
                if wait is not None and scope.get("path") not in ("/health", "/ready"):
                    note_error(scope, errors.RateLimited.code)
                    await _send_refusal(send, wait)
                    return
                await app(scope, receive, send)
            finally:
                client_address.reset(token)

        return guarded

    return wrap
