"""An upload the client abandons mid-body is one log line, never a traceback (issue 9)."""

from __future__ import annotations

import socket

import httpx

from tests.conftest import StartServer
from tests.server.server_log import wait_for_lines
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


def test_aborted_uploads_log_one_line_each_and_no_traceback(start_server: StartServer) -> None:
    server = start_server()
    for _ in range(ABORTS):
        _abandon_upload(server)
    lines = wait_for_lines(server, LINE, ABORTS)
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert len(lines) == ABORTS, "".join(server.log)
    log = "".join(server.log)
    assert "Traceback" not in log, log
    assert "Exception" not in log, log
