"""Fixed test vectors (STYLE 11): a fixed Ed25519 seed and fixed fields give fixed bytes and a
fixed signature. A refactor that changes the wire format fails here, loudly.

The vectors live in ``vectors.json``. Never regenerate them to make a test pass: a difference is a
wire-format change, which needs a new protocol version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    ChallengeContext,
    ChallengeResponse,
    EnrollmentProof,
    RequestProof,
    SignedMessage,
    body_sha256,
    context_hash,
    private_key_from_seed,
    public_key_b64,
    sign,
    signed_bytes,
    verify,
)
from pushauth_server.protocol.encoding import canonical_bytes
from pushauth_server.protocol.legacy import (
    ChallengeResponseV2,
    EnrollmentProofV2,
    RequestProofV2,
    legacy_context_hash,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors.json").read_text("utf-8"))
MESSAGE_TYPES: dict[str, type[Any]] = {
    "enrollment_proof": EnrollmentProof,
    "request_proof": RequestProof,
    "challenge_response": ChallengeResponse,
}


def _message(name: str) -> SignedMessage:
    vector = VECTORS["messages"][name]
    message: SignedMessage = MESSAGE_TYPES[name](**vector["fields"])
    return message


def _context() -> ChallengeContext:
    fields = dict(VECTORS["context"]["fields"])
    fields["custom"] = ChallengeContext.custom_items(fields["custom"])
    return ChallengeContext(**fields)


def test_vectors_cover_every_signed_message_kind() -> None:
    assert set(VECTORS["messages"]) == set(MESSAGE_TYPES)
    assert {v["kind"] for v in VECTORS["messages"].values()} == {
        t.KIND for t in MESSAGE_TYPES.values()
    }


def test_public_key_from_the_fixed_seed() -> None:
    key = private_key_from_seed(bytes.fromhex(VECTORS["seed_hex"]))
    assert public_key_b64(key) == VECTORS["public_key"]


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_signed_bytes_are_fixed(name: str) -> None:
    message = _message(name)
    assert VECTORS["messages"][name]["kind"] == message.KIND
    assert signed_bytes(message).hex() == VECTORS["messages"][name]["signed_bytes_hex"]


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_signed_bytes_start_with_magic_version_and_kind(name: str) -> None:
    message = _message(name)
    header = b"pushauth\x00" + bytes([PROTOCOL_VERSION]) + message.KIND.encode() + b"\x00"
    assert PROTOCOL_VERSION == 3
    assert signed_bytes(message).startswith(header)


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_signature_is_fixed_and_verifies(name: str) -> None:
    key = private_key_from_seed(bytes.fromhex(VECTORS["seed_hex"]))
    message = _message(name)
    expected = VECTORS["messages"][name]["signature"]
    assert sign(key, message) == expected  # Ed25519 is deterministic
    assert verify(public_key=VECTORS["public_key"], message=message, signature=expected)


def test_challenge_response_vector_signs_the_context_hash_vector() -> None:
    fields = VECTORS["messages"]["challenge_response"]["fields"]
    assert fields["context_hash"] == VECTORS["context"]["context_hash"]


def test_context_canonical_bytes_are_fixed() -> None:
    context = _context()
    encoded = canonical_bytes("challenge-context", context.fields())
    assert encoded.hex() == VECTORS["context"]["canonical_bytes_hex"]


def test_context_hash_is_fixed() -> None:
    assert context_hash(_context()) == VECTORS["context"]["context_hash"]


def test_context_hash_ignores_the_order_custom_items_were_given_in() -> None:
    context = _context()
    shuffled = ChallengeContext(
        user_id=context.user_id,
        action=context.action,
        created_at_ms=context.created_at_ms,
        application=context.application,
        note=context.note,
        initiator_host=context.initiator_host,
        initiator_ip=context.initiator_ip,
        initiator_user_agent=context.initiator_user_agent,
        custom=tuple(reversed(context.custom)),
    )
    assert context_hash(shuffled) == VECTORS["context"]["context_hash"]


def test_the_request_proof_vector_signs_its_body() -> None:
    vector = VECTORS["messages"]["request_proof"]
    assert vector["fields"]["body_sha256"] == body_sha256(vector["body_utf8"].encode("utf-8"))


def test_custom_keys_are_ordered_by_code_point_not_utf16() -> None:
    # UTF-8 byte order is code-point order; JavaScript's default sort compares UTF-16 units and
    # puts U+1F600 (a surrogate pair, 0xD83D...) before U+FB01: that client would be refused.
    order = VECTORS["context"]["custom_key_order"]
    assert [key for key, _ in _context().custom] == order
    assert order == sorted(order, key=lambda key: key.encode("utf-8"))
    utf16 = sorted(order, key=lambda key: key.encode("utf-16-be"))
    assert utf16 != order


# --- version 2, as it was: receipts signed under it must still verify --------------------------

LEGACY_V2: dict[str, Any] = VECTORS["legacy_v2"]
V2_TYPES: dict[str, type[Any]] = {
    "enrollment_proof": EnrollmentProofV2,
    "request_proof": RequestProofV2,
    "challenge_response": ChallengeResponseV2,
}


def test_the_application_is_signed_first_among_the_context_fields() -> None:
    names = [name for name, _ in _context().fields()]
    assert names[:4] == ["user_id", "action", "created_at_ms", "application"]
    assert VECTORS["context"]["fields"]["application"] == "Acme VPN"


def test_the_version_2_context_hash_is_computed_without_the_application() -> None:
    fields = dict(LEGACY_V2["context"]["fields"])
    fields["custom"] = ChallengeContext.custom_items(fields["custom"])
    v2 = ChallengeContext(**fields)
    assert legacy_context_hash(v2, version=2) == LEGACY_V2["context"]["context_hash"]
    # The same context with an application hashes the same under version 2 (it had none) ...
    named = _context()
    assert legacy_context_hash(named, version=2) == LEGACY_V2["context"]["context_hash"]
    # ... and differently under version 3, which signs it.
    assert context_hash(named) != LEGACY_V2["context"]["context_hash"]


@pytest.mark.parametrize("name", sorted(V2_TYPES))
def test_version_2_messages_keep_their_bytes_and_signatures(name: str) -> None:
    vector = LEGACY_V2["messages"][name]
    message = V2_TYPES[name](**vector["fields"])
    assert signed_bytes(message).hex() == vector["signed_bytes_hex"]
    assert signed_bytes(message)[9] == 2
    assert verify(public_key=VECTORS["public_key"], message=message, signature=vector["signature"])
    # Never valid as version 3: the version byte separates them.
    current = MESSAGE_TYPES[name](**vector["fields"])
    assert not verify(
        public_key=VECTORS["public_key"], message=current, signature=vector["signature"]
    )
