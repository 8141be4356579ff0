"""Bounded connections: what one hostile client can hold, and for how long.

uvicorn has a keep-alive timeout and (with h11) a maximum head size, but no deadline for reading a
request, no request-line limit and no per-client cap, and its faster parser (httptools) has no
head limit at all. So ``pushauth serve`` runs uvicorn's HTTP protocol (httptools when installed,
else h11) with :class:`ConnectionGuard` in front, which adds, per connection:

- **a cap**: at most :attr:`ConnectionLimits.total` open connections (kept 64 below the process's
  open-file limit, so sockets never starve the database of file descriptors) and at most
  :attr:`ConnectionLimits.per_client` from one client address. A connection past either gets a
  503 ``server_busy`` and is closed at once;
- **a request read deadline**: a connection must deliver a whole request (line, headers, body)
  within ``request_read_timeout`` of opening, or of its first byte after an idle keep-alive, or
  it gets a 408 and is closed. This stops idle, slowloris and slow-body sockets. Once a request
  has been read the deadline is off: a device's authenticated event stream stays open as long as
  it likes;
- **size limits**: the request line (414) and the whole head (h11's own limit, 400).

Every limit that bites is logged, at most once per :data:`LOG_INTERVAL_SECONDS` per limit, with a
count of what was refused meanwhile: an attack is visible without flooding the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

from pushauth_server import errors
from pushauth_server.settings import Settings

logger = logging.getLogger("pushauth.connections")

LOG_INTERVAL_SECONDS = 10.0
FD_RESERVE = 64  # file descriptors kept for the database, logs and the listening socket


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    max_connections: int = 1000
    max_connections_per_client: int = 250
    request_read_timeout: float = 10.0
    max_request_line_bytes: int = 8192
    max_header_bytes: int = 16_384

    @property
    def total(self) -> int:
        """The cap now: the setting, or 64 below the soft open-file limit if that is lower."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(2, min(self.max_connections, soft - FD_RESERVE))

    @property
    def per_client(self) -> int:
        # One address never holds more than half: the rest stays for everyone else.
        return max(1, min(self.max_connections_per_client, self.total // 2))


@dataclass
class RateLimitedLog:
    """One warning per limit per interval, saying how many times it bit since the last line."""

    interval: float = LOG_INTERVAL_SECONDS
    on_refusal: Callable[[str], None] | None = None  # counts every refusal (metrics)
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: Counter[str] = field(default_factory=Counter)

    def note(self, limit: str, message: str) -> None:
        if self.on_refusal is not None:
            self.on_refusal(
                "per_client" if limit.startswith("client:") else limit.replace("-", "_")
            )
        now = time.monotonic()
        last = self._last.get(limit)
        if last is not None and now - last < self.interval:
            self._suppressed[limit] += 1
            return
        more = self._suppressed.pop(limit, 0)
        self._last[limit] = now
        suffix = f" (and {more} more since the last report)" if more else ""
        logger.warning("connection limit: %s%s", message, suffix)


@dataclass
class ConnectionRegistry:
    """Open connections in one server process, in all and by client address."""

    limits: ConnectionLimits
    log: RateLimitedLog = field(default_factory=RateLimitedLog)
    open_total: int = 0
    by_client: Counter[str] = field(default_factory=Counter)

    def admit(self, client: str) -> str | None:
        """Count a new connection in, or say which limit refuses it."""
        total, per_client = self.limits.total, self.limits.per_client
        if self.open_total >= total:
            self.log.note("total", f"{total} connections open; refusing new ones")
            return "The server has too many open connections; retry in a moment."
        if self.by_client[client] >= per_client:
            self.log.note(
                f"client:{client}",
                f"{client} holds {per_client} connections (its share); refusing more from it",
            )
            return "This address has too many open connections; close some and retry."
        self.open_total += 1
        self.by_client[client] += 1
        return None

    def release(self, client: str) -> None:
        self.open_total -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]


_REASONS = {
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def _raw_response(error: errors.PushAuthError, **headers: str) -> bytes:
    """A complete error response in our body shape, written straight to the socket."""
    body = json.dumps(
        {"error": {"code": error.code, "message": error.message, "details": error.details}}
    ).encode()
    status = error.status_code
    head = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        "content-type: application/json",
        "connection: close",
    ]
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    head.append(f"content-length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


if TYPE_CHECKING:
    _Protocol = H11Protocol  # what the guard relies on: uvicorn's cycle, transport and loop
else:
    _Protocol = object


class ConnectionGuard(_Protocol):
    """The limits above, in front of one of uvicorn's HTTP protocols; see
    :func:`guarded_protocol`. Both uvicorn protocols (h11, httptools) keep the state read here:
    ``cycle`` (``more_body``, ``response_started``, ``response_complete``), ``transport``,
    ``loop`` and ``client``."""

    registry: ClassVar[ConnectionRegistry]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = ""
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None
        self._line_bytes: int | None = 0  # bytes of the request line so far; None once read
        self._head_bytes: int | None = 0  # bytes of the request head so far; None once read
        self._head_tail = b""  # the head's last 3 bytes, to find a CRLFCRLF split across reads

    # -- connection lifetime ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else "unknown"
        refusal = self.registry.admit(self._address)
        if refusal is not None:
            self._refuse(errors.ServerBusy(refusal), retry_after="5")
            return
        self._admitted = True
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._admitted:
            self._admitted = False
            self.registry.release(self._address)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._deadline is None and self._between_requests():
            self._arm()  # first byte after an idle keep-alive: the next request starts now
            self._line_bytes, self._head_bytes, self._head_tail = 0, 0, b""
        if self._line_bytes is not None and not self._check_request_line(data):
            return
        if self._head_bytes is not None and not self._check_head(data):
            return
        super().data_received(data)
        if self.cycle is not None and not self.cycle.more_body and not self._between_requests():
            self._disarm()  # the whole request is in: what follows is the response's business

    # -- the request read deadline ------------------------------------------------------------
    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        timeout = self.registry.limits.request_read_timeout
        self._deadline = self.loop.call_later(timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _read_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.registry.log.note(
            "read-timeout",
            f"{self._address} did not send a whole request within "
            f"{self.registry.limits.request_read_timeout:g} s; closed",
        )
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self._refuse(errors.RequestTimeout("The request was not sent in time; send it again."))
        else:
            self.transport.close()

    # -- size limits --------------------------------------------------------------------------
    def _check_request_line(self, data: bytes) -> bool:
        assert self._line_bytes is not None
        end = data.find(b"\n")
        self._line_bytes += len(data) if end < 0 else end
        limit = self.registry.limits.max_request_line_bytes
        if self._line_bytes > limit:
            self.registry.log.note(
                "request-line", f"{self._address} sent a request line over {limit} bytes; closed"
            )
            self._refuse(
                errors.RequestLineTooLong(
                    f"The request line is longer than {limit} bytes.", max_bytes=limit
                )
            )
            return False
        if end >= 0:
            self._line_bytes = None
        return True

    def _check_head(self, data: bytes) -> bool:
        assert self._head_bytes is not None
        seen = self._head_tail + data
        end = seen.find(b"\r\n\r\n")
        if end < 0:
            self._head_bytes += len(data)
            self._head_tail = seen[-3:]
        else:
            self._head_bytes += end + 4 - len(self._head_tail)
        limit = self.registry.limits.max_header_bytes
        if self._head_bytes > limit:
            self.registry.log.note(
                "head", f"{self._address} sent a request head over {limit} bytes; closed"
            )
            self._refuse(
                errors.HeadersTooLarge(
                    f"The request line and headers are longer than {limit} bytes.",
                    max_bytes=limit,
                )
            )
            return False
        if end >= 0:
            self._head_bytes = None
        return True

    def _refuse(self, error: errors.PushAuthError, **headers: str) -> None:
        self._disarm()
        self.transport.write(_raw_response(error, **headers))
        self.transport.close()


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        max_connections=settings.max_connections,
        max_connections_per_client=settings.max_connections_per_client,
        request_read_timeout=settings.request_read_timeout_seconds,
        max_request_line_bytes=settings.max_request_line_bytes,
        max_header_bytes=settings.max_header_bytes,
    )


def _http_protocol() -> type[asyncio.Protocol]:
    """uvicorn's fastest HTTP/1.1 protocol available: httptools, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is not installed
        return H11Protocol
    return HttpToolsProtocol


def guarded_protocol(
    limits: ConnectionLimits, *, on_refusal: Callable[[str], None] | None = None
) -> type[asyncio.Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with its own registry of ``limits``
    (one per process: with ``--workers N`` each worker holds its own caps).
    ``on_refusal(limit)`` is called for every connection a limit refuses or closes."""
    registry = ConnectionRegistry(limits, log=RateLimitedLog(on_refusal=on_refusal))
    return type("PushAuthHTTPProtocol", (ConnectionGuard, _http_protocol()), {"registry": registry})
