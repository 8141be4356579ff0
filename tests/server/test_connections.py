"""Bounded connections on a real ``pushauth serve`` (issue 9, connections.py).

2,000 idle, slowloris and slow-body sockets from one address, on a server with ``ulimit -n 1024``,
cannot stop legitimate sign-ins from another, and header floods do not grow the server's memory.
Slow requests are cut with a 408, long request lines with a 414; an authenticated device stream
outlives every timeout.
"""

from __future__ import annotations

import contextlib
import json
import resource
import selectors
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pushauth_server.client import DeviceIdentity, PushAuthClient, calls, enrollment_proof
from pushauth_server.protocol import generate_private_key
from tests.conftest import StartServer
from tests.server.server_log import wait_for_lines
from tests.support.processes import API_KEY, Server

ATTACKER = "127.0.0.2"  # one hostile client address; legitimate clients use 127.0.0.1
ATTACK_SOCKETS = 2000
PER_CLIENT = 250


@pytest.fixture
def many_files() -> Iterator[None]:
    """The test holds 2,000+ sockets: raise its soft open-file limit (the server inherits it,
    then gets 1,024 with prlimit, as with ``ulimit -n 1024``)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = ATTACK_SOCKETS + 1000
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard open-file limit ({hard}) is below {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _connect(server: Server, source: str, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _attack(server: Server) -> list[socket.socket]:
    """Idle, slowloris (headers never end) and slow-body sockets, a third each."""
    kinds = [
        b"",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"POST /v1/device/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"token": ',
    ]
    return [_connect(server, ATTACKER, kinds[i % 3]) for i in range(ATTACK_SOCKETS)]


def _refusals(sockets: list[socket.socket], expected: int) -> list[bytes]:
    """Wait (bounded by the test timeout) for the server's answer on ``expected`` sockets."""
    answers: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        while len(answers) < expected:
            ready = selector.select(timeout=60)
            assert ready, f"only {len(answers)} of {expected} refusals arrived"
            for key, _ in ready:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                selector.unregister(sock)
                answers.append(sock.recv(4096))
    return answers


async def _sign_in(server: Server, user: str) -> str:
    """Enroll, challenge, approve with the number, read the outcome: the whole product."""
    async with PushAuthClient(server.url, api_key=API_KEY) as rp:
        info = await rp.call(calls.health())
        token = await rp.call(calls.issue_enrollment_token(user))
        key = generate_private_key()
        body = enrollment_proof(key, origin=info.origin, token=token.token, device_name="phone")
        registration = await rp.call(calls.register(**body))
        identity = DeviceIdentity(
            origin=info.origin, credential_id=registration.credential_id, private_key=key
        )
        created = await rp.call(calls.create_challenge(user_id=user))
        async with PushAuthClient(server.url, identity=identity) as device:
            [pending] = await device.call(calls.pending_challenges())
            answer = identity.response_body(
                pending, decision="approve", verification_code=created.verification_code
            )
            await device.call(calls.respond(pending.challenge_id, answer))
        state = await rp.call(calls.get_challenge(created.challenge_id))
        return state.status


async def test_one_client_with_2000_sockets_cannot_stop_sign_ins(
    start_server: StartServer, many_files: None
) -> None:
    # A long read timeout: what keeps sign-ins working here is the cap, not the timeout.
    server = start_server(request_read_timeout_seconds="300")
    assert server.process is not None
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (1024, hard))
    rss_before = _rss_bytes(server.process.pid)
    sockets = _attack(server)
    try:
        answers = _refusals(sockets, ATTACK_SOCKETS - PER_CLIENT)
        assert all(a.startswith(b"HTTP/1.1 503") for a in answers), answers[:3]
        assert all(b'"server_busy"' in a for a in answers)
        statuses = [await _sign_in(server, f"user{i}") for i in range(10)]
        assert statuses == ["approved"] * 10
    finally:
        for sock in sockets:
            sock.close()
    # Header floods: 20 connections each trying to send 10 MiB of headers that never end.
    for _ in range(20):
        with contextlib.suppress(OSError), _connect(server, "127.0.0.3") as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            line = b"X-Flood: " + b"a" * 65_536 + b"\r\n"
            for _ in range(160):  # 10 MiB
                sock.sendall(line)
    growth = _rss_bytes(server.process.pid) - rss_before
    assert growth < 64 * 1024 * 1024, f"the server grew by {growth / 2**20:.0f} MiB"
    limit_lines = [line for line in server.log if "connection limit:" in line]
    assert limit_lines, "".join(server.log)
    assert len(limit_lines) < 20, limit_lines  # rate-limited, not one line per refusal
    assert "Traceback" not in "".join(server.log)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _error_code(answer: bytes) -> str:
    _head, _, body = answer.partition(b"\r\n\r\n")
    code: str = json.loads(body)["error"]["code"]
    return code


@pytest.mark.parametrize(
    "first_bytes",
    [
        b"",  # idle
        b"GET /health HTTP/1.1\r\nHost: x\r\n",  # headers that never end
        b"POST /v1/device/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{",  # a body that never ends
    ],
    ids=["idle", "slowloris", "slow-body"],
)
def test_a_request_not_sent_in_time_gets_a_408(
    start_server: StartServer, first_bytes: bytes
) -> None:
    server = start_server(request_read_timeout_seconds="0.5")
    with _connect(server, "127.0.0.1", first_bytes) as sock:
        sock.settimeout(30)
        answer = _read_all(sock)  # the server closes the connection
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert _error_code(answer) == "request_timeout"
    lines = wait_for_lines(server, "did not send a whole request", 1)
    assert len(lines) == 1, server.log


def test_a_long_request_line_gets_a_414(start_server: StartServer) -> None:
    server = start_server(max_request_line_bytes="1024")
    with _connect(server, "127.0.0.1", b"GET /" + b"a" * 2000) as sock:
        sock.settimeout(30)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 414"), answer
    assert _error_code(answer) == "request_line_too_long"
    ok = httpx.get(f"{server.url}/health?x=" + "a" * 900)
    assert ok.status_code == 200


def test_an_oversized_head_is_refused(start_server: StartServer) -> None:
    server = start_server(max_header_bytes="4096")
    with _connect(server, "127.0.0.1") as sock:
        sock.settimeout(30)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer
    assert _error_code(answer) == "headers_too_large"
    ok = httpx.get(f"{server.url}/health", headers={"X-Fits": "a" * 3000})
    assert ok.status_code == 200


async def test_an_authenticated_device_stream_outlives_every_timeout(
    start_server: StartServer,
) -> None:
    server = start_server(
        request_read_timeout_seconds="0.3",
        keep_alive_timeout_seconds="1",
        stream_keepalive_seconds="0.2",
    )
    async with PushAuthClient(server.url, api_key=API_KEY) as rp:
        info = await rp.call(calls.health())
        token = await rp.call(calls.issue_enrollment_token("streamer"))
        key = generate_private_key()
        body = enrollment_proof(key, origin=info.origin, token=token.token, device_name="phone")
        registration = await rp.call(calls.register(**body))
    identity = DeviceIdentity(
        origin=info.origin, credential_id=registration.credential_id, private_key=key
    )
    path = "/v1/device/stream"
    comments = 0
    lines: list[str] = []
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        http.stream("GET", path, headers=identity.proof_headers("GET", path)) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith(":"):
                comments += 1
            # 8 comments 0.2 s apart: past the read and keep-alive timeouts, still open.
            if comments >= 8:
                break
    assert comments >= 8
    # The keep-alive is a comment line only: an empty data: line would make a browser's
    # EventSource fire an empty message each time.
    assert not [line for line in lines if line.strip() in ("data:", "data: ")], lines
