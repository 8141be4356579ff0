"""docs/protocol.md's test vectors and error table, checked against the code (issue 9).

A client written from the document alone must agree with the server byte for byte, so every
vector printed there is recomputed here, and every error in errors.py must be in its table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pushauth_server import errors
from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    ChallengeContext,
    ChallengeResponse,
    EnrollmentProof,
    RequestProof,
    b64url_encode,
    body_sha256,
    context_hash,
    is_valid_public_key,
    private_key_from_seed,
    public_key_b64,
    sign,
    signed_bytes,
    verify,
)
from pushauth_server.protocol.encoding import canonical_bytes
from pushauth_server.protocol.legacy import legacy_context_hash

DOC = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text("utf-8")
_VECTOR = re.compile(r"<!-- vector: ([a-z0-9-]+) -->\n```json\n(.*?)\n```", re.S)
VECTORS: dict[str, Any] = {name: json.loads(body) for name, body in _VECTOR.findall(DOC)}
MESSAGES: dict[str, type[Any]] = {
    "enrollment-proof": EnrollmentProof,
    "request-proof": RequestProof,
    "challenge-response": ChallengeResponse,
}


def _key() -> Any:
    return private_key_from_seed(bytes.fromhex(VECTORS["key"]["seed_hex"]))


def test_the_document_has_a_vector_for_every_message_kind() -> None:
    assert set(VECTORS) == {
        "key",
        "challenge-context",
        "challenge-context-v2",
        "weak-keys",
        *MESSAGES,
    }
    assert f"# The pushauth protocol, version {PROTOCOL_VERSION}" in DOC


def test_the_documented_key_comes_from_the_seed() -> None:
    assert public_key_b64(_key()) == VECTORS["key"]["public_key"]


def test_the_documented_version_2_context_hash_for_old_receipts() -> None:
    vector = VECTORS["challenge-context-v2"]
    fields = dict(vector["fields"])
    assert "application" not in fields
    fields["custom"] = ChallengeContext.custom_items(fields["custom"])
    context = ChallengeContext(**fields)
    encoded = canonical_bytes(
        "challenge-context", context.fields()[:3] + context.fields()[4:], version=2
    )
    assert encoded.hex() == vector["canonical_bytes_hex"]
    assert legacy_context_hash(context, version=2) == vector["context_hash"]
    # The documented version 3 context is the same one, asked by an application.
    named = dict(VECTORS["challenge-context"]["fields"])
    assert named.pop("application") == "Acme VPN"
    assert named == vector["fields"]


def test_the_documented_context_hash() -> None:
    vector = VECTORS["challenge-context"]
    fields = dict(vector["fields"])
    fields["custom"] = ChallengeContext.custom_items(fields["custom"])
    context = ChallengeContext(**fields)
    assert [key for key, _ in context.custom] == vector["custom_key_order"]
    encoded = canonical_bytes("challenge-context", context.fields())
    assert encoded.hex() == vector["canonical_bytes_hex"]
    assert context_hash(context) == vector["context_hash"]
    # The case JavaScript's default sort gets wrong is really in the vector.
    keys = vector["custom_key_order"]
    assert sorted(keys, key=lambda k: k.encode("utf-16-be")) != keys


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_the_documented_signed_bytes_and_signature(kind: str) -> None:
    vector = VECTORS[kind]
    assert vector["kind"] == kind
    message = MESSAGES[kind](**vector["fields"])
    assert signed_bytes(message).hex() == vector["signed_bytes_hex"]
    assert signed_bytes(message)[9] == PROTOCOL_VERSION
    assert sign(_key(), message) == vector["signature"]
    public_key = VECTORS["key"]["public_key"]
    assert verify(public_key=public_key, message=message, signature=vector["signature"])


def test_the_documented_request_proof_signs_its_body() -> None:
    vector = VECTORS["request-proof"]
    assert vector["fields"]["body_sha256"] == body_sha256(vector["body_utf8"].encode("utf-8"))
    assert "?" in vector["fields"]["target"]


def test_the_documented_response_signs_the_documented_context() -> None:
    fields = VECTORS["challenge-response"]["fields"]
    assert fields["context_hash"] == VECTORS["challenge-context"]["context_hash"]


def test_the_documented_weak_keys_are_refused() -> None:
    vector = VECTORS["weak-keys"]
    universal = b64url_encode(bytes.fromhex(vector["universal_signature_hex"]))
    message = EnrollmentProof(**VECTORS["enrollment-proof"]["fields"])
    for name, key_hex in vector["refused_public_keys_hex"].items():
        key = b64url_encode(bytes.fromhex(key_hex))
        assert not is_valid_public_key(key), name
        assert not verify(public_key=key, message=message, signature=universal), name


def _documented_errors() -> dict[str, int]:
    table = DOC.split("<!-- errors -->", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", table, re.M)
    return {code: int(status) for status, code in rows}


def test_every_error_code_is_documented_with_its_status() -> None:
    documented = _documented_errors()
    in_code = {
        cls.code: cls.status_code
        for cls in (getattr(errors, name) for name in errors.__all__)
        if isinstance(cls, type) and issubclass(cls, errors.PushAuthError)
    }
    assert documented == in_code


def test_the_keep_alive_is_documented_as_a_comment_line_only() -> None:
    assert "`: keep-alive`" in DOC
    assert "no `data:` line" in DOC
