"""Weak keys and malleable signatures (issue 9): fixed vectors for every case pushauth refuses.

OpenSSL accepts all of these keys, and the constant signature ``R = identity, S = 0`` verifies
under a small-order key for every message; these tests fail without :mod:`.curve`'s checks.
"""

from __future__ import annotations

import pytest

from pushauth_server.protocol import (
    RequestProof,
    b64url_decode,
    b64url_encode,
    body_sha256,
    is_valid_public_key,
    private_key_from_seed,
    public_key_b64,
    public_key_rejection,
    sign,
    verify,
)
from pushauth_server.protocol.curve import (
    SMALL_ORDER_ENCODINGS,
    L,
    decode_point,
    has_small_order,
    public_key_problem,
    signature_problem,
)
from pushauth_server.protocol.keys import KeyRejection

SEED = bytes(range(32))
MESSAGE = RequestProof(
    origin="https://auth.example.com",
    method="GET",
    target="/v1/device/challenges",
    body_sha256=body_sha256(b""),
    timestamp_ms=1767225600000,
    nonce="AAAAAAAAAAAAAAAAAAAAAA",
    credential_id="cr_vector",
)

# Public keys (hex of the 32 raw bytes) that must be refused, and why.
WEAK_KEYS = {
    # The identity point: [k]A is the identity for every k.
    "identity": "0100000000000000000000000000000000000000000000000000000000000000",
    # The point (0, -1), order 2.
    "order-2": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    # A point of order 8.
    "order-8": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    # y = p + 1: a second spelling of the identity.
    "non-canonical y >= p (identity)": (
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    ),
    # y = p + 3: a second spelling of a (torsion) point with y = 3.
    "non-canonical y >= p": "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    # x = 0 with the sign bit set ("-0"): a second spelling of the identity.
    "negative zero": "0100000000000000000000000000000000000000000000000000000000000080",
    # The seed's honest key plus a point of order 8: large order, but with a torsion component.
    "mixed order": "b154bd62188ae283dd187fefe8c31f5e276edf083b4cff11c9d5cff856c74440",
}
UNIVERSAL_SIGNATURE = "01" + "00" * 31 + "00" * 32  # R = identity, S = 0


def _b64(hex_text: str) -> str:
    return b64url_encode(bytes.fromhex(hex_text))


def test_an_honest_key_is_accepted() -> None:
    key = private_key_from_seed(SEED)
    assert public_key_rejection(public_key_b64(key)) is None
    assert verify(public_key=public_key_b64(key), message=MESSAGE, signature=sign(key, MESSAGE))


@pytest.mark.parametrize("name", sorted(WEAK_KEYS))
def test_weak_public_keys_are_refused(name: str) -> None:
    raw = bytes.fromhex(WEAK_KEYS[name])
    assert public_key_problem(raw) is not None
    assert not is_valid_public_key(b64url_encode(raw))


@pytest.mark.parametrize("name", ["identity", "order-2", "order-8", "negative zero"])
def test_the_universal_signature_never_verifies(name: str) -> None:
    # Without the checks, this one signature verifies for every message under a small-order key.
    assert not verify(
        public_key=_b64(WEAK_KEYS[name]), message=MESSAGE, signature=_b64(UNIVERSAL_SIGNATURE)
    )


def test_a_non_reduced_s_is_refused() -> None:
    key = private_key_from_seed(SEED)
    good = b64url_decode(sign(key, MESSAGE))
    s = int.from_bytes(good[32:], "little")
    malleated = good[:32] + (s + L).to_bytes(32, "little")
    assert signature_problem(malleated) == "S is not reduced modulo L"
    assert not verify(
        public_key=public_key_b64(key), message=MESSAGE, signature=b64url_encode(malleated)
    )


@pytest.mark.parametrize(
    ("r_hex", "problem"),
    [
        (WEAK_KEYS["identity"], "R has small order"),
        (WEAK_KEYS["order-8"], "R has small order"),
        (WEAK_KEYS["non-canonical y >= p"], "R is not a canonical point"),
    ],
)
def test_a_small_order_or_non_canonical_r_is_refused(r_hex: str, problem: str) -> None:
    signature = bytes.fromhex(r_hex) + bytes(32)
    assert signature_problem(signature) == problem


def test_decoding_is_strict_about_length() -> None:
    assert decode_point(bytes(31)) is None
    assert public_key_rejection("AAAA") == KeyRejection(problem="not 32 bytes", weak=False)
    rejection = public_key_rejection("not base64!")
    assert rejection is not None
    assert not rejection.weak
    weak = public_key_rejection(_b64(WEAK_KEYS["identity"]))
    assert weak is not None
    assert weak.weak


def test_the_small_order_look_up_holds_every_small_order_encoding() -> None:
    # The eight points of order dividing 8, and "-0" for the two with x = 0 (libsodium's list).
    assert len(SMALL_ORDER_ENCODINGS) == 10
    for encoding in SMALL_ORDER_ENCODINGS:
        point = decode_point(encoding)
        assert point is None or has_small_order(point)
        assert signature_problem(encoding + bytes(32)) == "R has small order"
    honest = b64url_decode(sign(private_key_from_seed(SEED), MESSAGE))
    assert signature_problem(honest) is None
