"""Request nonces live in memory or in Redis, not in the database, and still never allow a replay:
not against another process sharing Redis, not after a graceful restart, not after a crash.

Each test holds a real device identity (a key in memory, enrolled through the API) and replays
the very same signed request proof against a real ``pushauth serve``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from pushauth_server.client import DeviceIdentity, enrollment_proof
from pushauth_server.clock import now_ms
from pushauth_server.protocol import RequestProof, body_sha256, generate_private_key, sign
from tests.conftest import StartServer
from tests.integration.test_scale_out import postgres_database  # noqa: F401 - a fixture
from tests.support.processes import API_KEY, Server

PATH = "/v1/device/challenges"


def enroll(server: Server, user_id: str) -> DeviceIdentity:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        origin = http.get("/health").json()["origin"]
        token = http.post(
            "/v1/enrollment-tokens",
            json={"user_id": user_id},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ).json()["token"]
        key = generate_private_key()
        body = enrollment_proof(key, origin=origin, token=token, device_name="phone")
        registered = http.post("/v1/device/register", json=body)
        assert registered.status_code == 201, registered.text
        return DeviceIdentity(
            origin=origin, credential_id=registered.json()["credential_id"], private_key=key
        )


def proof(device: DeviceIdentity, *, ahead_ms: int = 0) -> dict[str, str]:
    """A proof for ``GET PATH``; ``ahead_ms``: dated ahead, as by a device whose clock runs fast."""
    if not ahead_ms:
        return device.proof_headers("GET", PATH)
    timestamp = now_ms() + ahead_ms
    nonce = secrets.token_urlsafe(18)
    message = RequestProof(
        origin=device.origin,
        method="GET",
        target=PATH,
        body_sha256=body_sha256(b""),
        timestamp_ms=timestamp,
        nonce=nonce,
        credential_id=device.credential_id,
    )
    return {
        "X-PushAuth-Credential": device.credential_id,
        "X-PushAuth-Timestamp": str(timestamp),
        "X-PushAuth-Nonce": nonce,
        "X-PushAuth-Signature": sign(device.private_key, message),
    }


def call(server: Server, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(server.url + PATH, headers=headers, timeout=30)


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_a_proof_is_not_replayable_after_a_graceful_restart(start_server: StartServer) -> None:
    server = start_server()
    device = enroll(server, "nonce-graceful")
    headers = proof(device)
    assert call(server, headers).status_code == 200
    server.restart()  # SIGTERM: the unexpired nonces are kept across
    replay = call(server, headers)
    assert (replay.status_code, code(replay)) == (401, "replayed_proof")
    assert call(server, proof(device)).status_code == 200  # a new proof is fine at once


def test_a_proof_is_not_replayable_after_a_crash(start_server: StartServer) -> None:
    server = start_server()
    device = enroll(server, "nonce-crash")
    on_time = proof(device)
    ahead = proof(device, ahead_ms=30_000)  # a device whose clock runs 30 s fast
    assert call(server, on_time).status_code == 200
    assert call(server, ahead).status_code == 200
    assert server.process is not None
    server.process.kill()  # no goodbye: nothing is written at shutdown
    server.stop()
    server.start()
    # Dated before the new process started: refused, whatever it was used for before.
    stale = call(server, on_time)
    assert (stale.status_code, code(stale)) == (401, "stale_proof")
    # Dated after it, but used before the crash: its nonce was written down before acceptance.
    replay = call(server, ahead)
    assert (replay.status_code, code(replay)) == (401, "replayed_proof")
    assert call(server, proof(device)).status_code == 200  # devices reconnect at once


@pytest.mark.postgres
def test_a_proof_used_on_one_process_is_a_replay_on_another(
    start_server: StartServer,
    postgres_database: str,
    tmp_path: Path,
) -> None:
    settings = {
        "channels_backend": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        "secret": "shared-" + secrets.token_hex(16),  # one deployment: every process has it
    }
    first = start_server(postgres_database, **settings)
    second = start_server(postgres_database, public_url=first.url, **settings)
    device = enroll(first, "nonce-" + secrets.token_hex(4))
    headers = proof(device)
    assert call(first, headers).status_code == 200
    replay = call(second, headers)
    assert (replay.status_code, code(replay)) == (401, "replayed_proof")
    assert call(second, proof(device)).status_code == 200
