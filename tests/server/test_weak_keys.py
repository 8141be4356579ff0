"""A weak device key never registers (issue 9): with the identity point as the public key, the
constant signature R = identity, S = 0 would pass the enrollment proof and every request proof."""

from __future__ import annotations

from pushauth_server.protocol import b64url_encode
from tests.protocol.test_strict_keys import UNIVERSAL_SIGNATURE, WEAK_KEYS
from tests.server.conftest import Harness, assert_error, fresh_user


async def test_a_small_order_key_cannot_register(harness: Harness) -> None:
    for name in ("identity", "order-8", "mixed order"):
        token = await harness.issue_token(fresh_user())
        before = await harness.snapshot()
        response = await harness.client.post(
            "/v1/device/register",
            json={
                "token": token,
                "public_key": b64url_encode(bytes.fromhex(WEAK_KEYS[name])),
                "device_name": "forged",
                "signature": b64url_encode(bytes.fromhex(UNIVERSAL_SIGNATURE)),
            },
        )
        error = assert_error(response, 400, "weak_public_key")
        assert error["details"]["field"] == "public_key"
        assert await harness.snapshot() == before, name
