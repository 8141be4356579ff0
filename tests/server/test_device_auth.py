"""Device request proofs (auth.py): fresh, bound to method and path, each nonce once."""

from __future__ import annotations

import secrets

import pytest

from pushauth_server.clock import now_ms
from pushauth_server.protocol import (
    RequestProof,
    body_sha256,
    generate_private_key,
    new_request_nonce,
    sign,
)
from tests.server.conftest import Device, Harness, assert_error

PATH = "/v1/device/challenges"


def proof_headers(
    harness: Harness,
    device: Device,
    *,
    method: str = "GET",
    path: str = PATH,
    timestamp: int | None = None,
    nonce: str | None = None,
    origin: str | None = None,
    key: object = None,
    body: bytes = b"",
) -> dict[str, str]:
    timestamp = now_ms() if timestamp is None else timestamp
    nonce = nonce or new_request_nonce()
    proof = RequestProof(
        origin=origin or harness.settings.origin,
        method=method,
        target=path,
        body_sha256=body_sha256(body),
        timestamp_ms=timestamp,
        nonce=nonce,
        credential_id=device.credential_id,
    )
    return {
        "X-PushAuth-Credential": device.credential_id,
        "X-PushAuth-Timestamp": str(timestamp),
        "X-PushAuth-Nonce": nonce,
        "X-PushAuth-Signature": sign(key or device.identity.private_key, proof),  # type: ignore[arg-type]
    }


async def refused(
    harness: Harness, headers: dict[str, str], status: int, code: str, path: str = PATH
) -> None:
    before, nonces = await harness.snapshot(), await harness.nonce_count()
    assert_error(await harness.client.get(path, headers=headers), status, code)
    assert await harness.snapshot() == before
    assert await harness.nonce_count() == nonces  # a refused proof spends nothing


async def test_a_fresh_proof_is_accepted(harness: Harness, device: Device) -> None:
    response = await harness.client.get(PATH, headers=proof_headers(harness, device))
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize(
    "header",
    ["X-PushAuth-Credential", "X-PushAuth-Timestamp", "X-PushAuth-Nonce", "X-PushAuth-Signature"],
)
async def test_missing_header_is_refused(harness: Harness, device: Device, header: str) -> None:
    headers = proof_headers(harness, device)
    del headers[header]
    await refused(harness, headers, 401, "unauthenticated")


async def test_no_proof_at_all_is_refused(harness: Harness, device: Device) -> None:
    await refused(harness, {}, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-PushAuth-Timestamp", "soon"),
        ("X-PushAuth-Timestamp", "-5"),
        ("X-PushAuth-Nonce", "n" * 65),
        ("X-PushAuth-Credential", "c" * 65),
    ],
)
async def test_malformed_headers_are_refused(
    harness: Harness, device: Device, header: str, value: str
) -> None:
    headers = proof_headers(harness, device)
    headers[header] = value
    await refused(harness, headers, 400, "invalid_request")


async def test_unknown_credential_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device)
    headers["X-PushAuth-Credential"] = "cr_unknown"
    await refused(harness, headers, 401, "unknown_credential")


async def test_signature_by_another_key_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device, key=generate_private_key())
    await refused(harness, headers, 401, "invalid_signature")


async def test_garbage_signature_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device)
    headers["X-PushAuth-Signature"] = "A" * 86
    await refused(harness, headers, 401, "invalid_signature")


@pytest.mark.parametrize("offset_ms", [-61_000, 61_000, -3_600_000])
async def test_stale_timestamp_is_refused(harness: Harness, device: Device, offset_ms: int) -> None:
    headers = proof_headers(harness, device, timestamp=now_ms() + offset_ms)
    await refused(harness, headers, 401, "stale_proof")


@pytest.mark.parametrize("offset_ms", [-50_000, 50_000])
async def test_timestamp_inside_the_window_is_accepted(
    harness: Harness, device: Device, offset_ms: int
) -> None:
    headers = proof_headers(harness, device, timestamp=now_ms() + offset_ms)
    assert (await harness.client.get(PATH, headers=headers)).status_code == 200


async def test_the_same_proof_twice_is_a_replay(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device)
    assert (await harness.client.get(PATH, headers=headers)).status_code == 200
    await refused(harness, headers, 401, "replayed_proof")


async def test_a_spent_nonce_is_refused_on_another_endpoint(
    harness: Harness, device: Device
) -> None:
    nonce = secrets.token_urlsafe(16)
    first = proof_headers(harness, device, nonce=nonce)
    assert (await harness.client.get(PATH, headers=first)).status_code == 200
    stream = "/v1/device/stream"
    again = proof_headers(harness, device, nonce=nonce, path=stream)
    await refused(harness, again, 401, "replayed_proof", path=stream)


async def test_a_proof_for_another_path_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device, path="/v1/device/stream")
    await refused(harness, headers, 401, "invalid_signature")


async def test_a_proof_for_another_method_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device, method="POST")
    await refused(harness, headers, 401, "invalid_signature")


async def test_a_proof_for_another_server_is_refused(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device, origin="https://evil.example")
    await refused(harness, headers, 401, "invalid_signature")


async def test_a_proof_naming_another_credential_is_refused(
    harness: Harness, device: Device
) -> None:
    other = await harness.enroll()
    headers = proof_headers(harness, device)
    headers["X-PushAuth-Credential"] = other.credential_id  # device's key, other's credential
    await refused(harness, headers, 401, "invalid_signature")


async def test_a_revoked_device_is_refused(harness: Harness, device: Device) -> None:
    revoked = await harness.rp("POST", f"/v1/devices/{device.credential_id}/revoke")
    assert revoked.status_code == 200
    await refused(harness, proof_headers(harness, device), 403, "credential_revoked")


async def test_the_stream_needs_a_proof(harness: Harness, device: Device) -> None:
    await refused(harness, {}, 401, "unauthenticated", path="/v1/device/stream")


async def test_a_huge_timestamp_is_a_400_not_a_500(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device)
    headers["X-PushAuth-Timestamp"] = "1" * 5000
    response = await harness.client.get(PATH, headers=headers)
    assert response.status_code == 400, response.text
