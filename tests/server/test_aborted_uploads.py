"""An upload the client abandons mid-body is one log line, never a traceback (issue 9)."""

from __future__ import annotations

import socket
import threading
import time

import httpx

from tests.conftest import StartServer
from tests.support.processes import Server

ABORTS = 25
LINE = "request aborted"


def _abandon_upload(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /v1/device/register HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
            b'{"token": "pet_'
        )


def _wait_for_lines(server: Server, count: int) -> list[str]:
    """Wait (bounded) until the server has logged ``count`` abort lines; the log is read by a
    thread, so there is no event to wait on but the lines themselves."""
    deadline = time.monotonic() + 30
    seen = threading.Event()
    while time.monotonic() < deadline:
        lines = [line for line in server.log if LINE in line]
        if len(lines) >= count:
            return lines
        seen.wait(0.05)
    return [line for line in server.log if LINE in line]


def test_aborted_uploads_log_one_line_each_and_no_traceback(start_server: StartServer) -> None:
    server = start_server()
    for _ in range(ABORTS):
        _abandon_upload(server)
    lines = _wait_for_lines(server, ABORTS)
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert len(lines) == ABORTS, "".join(server.log)
    log = "".join(server.log)
    assert "Traceback" not in log, log
    assert "Exception" not in log, log
