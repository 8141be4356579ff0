"""Thousands of idle device streams, held by a lean asyncio client.

httpx spends tens of kilobytes and a task per open stream, which at 15,000 streams would measure
the load generator rather than the server. An idle device does nothing but keep its stream open,
so here each is one :class:`asyncio.Protocol` on one socket: it sends a real
``GET /v1/device/stream`` with a fresh request proof signed by
:meth:`DeviceIdentity.proof_headers` (the same headers the client library sends), waits for the
server's ``ready`` event, then discards what follows (keep-alive comments). The measured flows
still use :class:`~pushauth_server.client.PushAuthClient`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

from pushauth_server.client import DeviceIdentity, calls

READY_EVENT = b"event: ready"


class IdleStreamRefused(RuntimeError):
    """The server answered an idle stream with something other than 200 and ``ready``."""


class _IdleStream(asyncio.Protocol):
    def __init__(self, request: bytes, ready: asyncio.Future[None]) -> None:
        self._request = request
        self._ready = ready
        self._head = b""
        self.transport: asyncio.Transport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self._ready.done():
            return  # idle: keep-alive comments are read and dropped
        self._head += data
        if len(self._head) >= 12 and not self._head.startswith(b"HTTP/1.1 200"):
            status = self._head.split(b"\r\n", 1)[0].decode(errors="replace")
            self._ready.set_exception(IdleStreamRefused(status))
        elif READY_EVENT in self._head:
            self._head = b""
            self._ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._ready.done():
            self._ready.set_exception(IdleStreamRefused(f"closed before ready ({exc!r})"))


def stream_request(identity: DeviceIdentity, host: str, port: int) -> bytes:
    path = calls.DEVICE_STREAM_PATH
    headers = {
        "Host": f"{host}:{port}",
        "Accept": "text/event-stream",
        "Cache-Control": "no-store",
        "User-Agent": "pushauth-bench-idle",
        **identity.proof_headers("GET", path),
    }
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("ascii")


IDLE_PER_ADDRESS = 1_000  # idle streams per loopback source address (127.1.x.y)


def source_address(index: int) -> str:
    """The loopback address the ``index``-th idle device connects from: 127.1.0.1, 127.1.0.2…"""
    n = index // IDLE_PER_ADDRESS + 1
    return f"127.1.{n // 250}.{n % 250 + 1}"


@dataclass
class IdleFleet:
    """Open idle streams; :meth:`close` drops them all."""

    host: str
    port: int
    streams: list[_IdleStream] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.streams)

    async def connect(
        self, identities: list[DeviceIdentity], *, concurrency: int, timeout: float
    ) -> tuple[float, list[BaseException]]:
        """Open one stream per identity; the seconds it took, and the failures (if any)."""
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(concurrency)
        started = time.perf_counter()

        async def one(identity: DeviceIdentity, index: int) -> None:
            async with limit:
                ready: asyncio.Future[None] = loop.create_future()
                request = stream_request(identity, self.host, self.port)
                _, protocol = await loop.create_connection(
                    lambda: _IdleStream(request, ready),
                    self.host,
                    self.port,
                    local_addr=(source_address(index), 0),
                )
                self.streams.append(protocol)
                async with asyncio.timeout(timeout):
                    await ready

        outcomes = await asyncio.gather(
            *(one(identity, len(self.streams) + i) for i, identity in enumerate(identities)),
            return_exceptions=True,
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        return time.perf_counter() - started, failures

    def open_count(self) -> int:
        return sum(
            1 for s in self.streams if s.transport is not None and not s.transport.is_closing()
        )

    def close(self) -> None:
        for stream in self.streams:
            if stream.transport is not None:
                stream.transport.close()
        self.streams.clear()
