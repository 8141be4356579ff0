"""Protocol version 2 request proofs (issue 9): the query string and the body are signed, nonces
carry at least 128 bits and are scoped to their credential, and a v1 proof is refused by name."""

from __future__ import annotations

import pytest

from pushauth_server.clock import now_ms
from pushauth_server.protocol import PROTOCOL_VERSION, new_request_nonce, sign
from pushauth_server.protocol.legacy import RequestProofV1
from tests.server.conftest import Device, Harness, assert_error
from tests.server.test_device_auth import PATH, proof_headers, refused


async def test_health_says_protocol_version_3(harness: Harness) -> None:
    assert PROTOCOL_VERSION == 3
    assert (await harness.client.get("/health")).json()["protocol_version"] == 3


async def test_the_query_string_is_signed(harness: Harness, device: Device) -> None:
    signed = proof_headers(harness, device, path=f"{PATH}?view=all")
    assert (await harness.client.get(f"{PATH}?view=all", headers=signed)).status_code == 200
    unsigned = proof_headers(harness, device)  # signs the bare path
    await refused(harness, unsigned, 401, "invalid_signature", path=f"{PATH}?view=all")
    altered = proof_headers(harness, device, path=f"{PATH}?view=all")
    await refused(harness, altered, 401, "invalid_signature", path=f"{PATH}?view=none")


async def test_the_body_is_signed(harness: Harness, device: Device) -> None:
    path = "/v1/device/revoke"
    headers = proof_headers(harness, device, method="POST", path=path, body=b'{"a": 1}')
    sent = {**headers, "content-type": "application/json"}
    before = await harness.snapshot()
    response = await harness.client.post(path, content=b'{"a": 2}', headers=sent)
    assert_error(response, 401, "invalid_signature")
    assert await harness.snapshot() == before  # the device was not revoked
    headers = proof_headers(harness, device, method="POST", path=path, body=b'{"a": 2}')
    sent = {**headers, "content-type": "application/json"}
    response = await harness.client.post(path, content=b'{"a": 2}', headers=sent)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "nonce",
    [
        "n",
        "A" * 21,  # 126 bits: too few
        "A" * 65,
        "A" * 21 + "=",  # padding is not base64url here
        "A" * 21 + "+",
        "A" * 21 + "/",
        "A" * 21 + ".",
    ],
)
async def test_a_weak_nonce_is_refused(harness: Harness, device: Device, nonce: str) -> None:
    headers = proof_headers(harness, device, nonce="A" * 22)
    headers["X-PushAuth-Nonce"] = nonce
    response = await harness.client.get(PATH, headers=headers)
    error = assert_error(response, 400, "invalid_request")
    assert error["details"]["field"] == "X-PushAuth-Nonce"


async def test_the_shortest_nonce_is_accepted(harness: Harness, device: Device) -> None:
    headers = proof_headers(harness, device, nonce="A" * 22)
    assert (await harness.client.get(PATH, headers=headers)).status_code == 200


async def test_nonces_are_scoped_to_their_credential(harness: Harness, device: Device) -> None:
    other = await harness.enroll()
    nonce = new_request_nonce()
    mine = proof_headers(harness, device, nonce=nonce)
    assert (await harness.client.get(PATH, headers=mine)).status_code == 200
    # The same nonce from another device is not a replay of this one's proof.
    theirs = proof_headers(harness, other, nonce=nonce)
    assert (await harness.client.get(PATH, headers=theirs)).status_code == 200
    # The same nonce again from the first device is.
    await refused(harness, proof_headers(harness, device, nonce=nonce), 401, "replayed_proof")


async def test_a_version_1_proof_is_refused_by_name(harness: Harness, device: Device) -> None:
    timestamp, nonce = now_ms(), new_request_nonce()
    v1 = RequestProofV1(
        origin=harness.settings.origin,
        method="GET",
        path=PATH,
        timestamp_ms=timestamp,
        nonce=nonce,
        credential_id=device.credential_id,
    )
    headers = {
        "X-PushAuth-Credential": device.credential_id,
        "X-PushAuth-Timestamp": str(timestamp),
        "X-PushAuth-Nonce": nonce,
        "X-PushAuth-Signature": sign(device.identity.private_key, v1),
    }
    await refused(harness, headers, 400, "unsupported_protocol_version")
