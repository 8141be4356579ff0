"""A real webhook receiver on 127.0.0.1 for tests: records each request, answers as told.

It runs an ``http.server`` in a thread of the test process. Each request is recorded whole
(headers and body) and announced on a queue, so a test waits for what arrives instead of
sleeping. ``answers`` is a list of statuses to give in order (then ``default``); ``hold`` makes
the next request wait until released (a receiver that has the request but has not answered).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int = 0
    default: int = 200
    answers: list[int] = field(default_factory=list)
    location: str | None = None  # sent with a 3xx answer
    hold_next: threading.Event | None = None  # set by a test: the next request waits for it
    hold_all: threading.Event | None = None  # set by a test: every request waits for it
    arrived: queue.Queue[Received] = field(default_factory=queue.Queue)
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def next(self, timeout: float = 30) -> Received:
        return self.arrived.get(timeout=timeout)

    def _answer(self) -> tuple[int, threading.Event | None]:
        with self._lock:
            status = self.answers.pop(0) if self.answers else self.default
            hold, self.hold_next = self.hold_next, None
            return status, hold or self.hold_all

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(path=self.path, headers=headers, body=body)
                status, hold = receiver._answer()
                with receiver._lock:
                    receiver.received.append(got)
                receiver.arrived.put(got)
                if hold is not None:
                    hold.wait(60)
                # The sender may be gone (killed while this request was held): nothing to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    if receiver.location and 300 <= status < 400:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # many deliveries at once must not be refused at connect

        server = Server(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


@contextmanager
def receiving(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
