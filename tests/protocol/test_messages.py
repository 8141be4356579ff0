"""Signed messages: domain separation between kinds, and every field inside the signature.

STYLE 12: change any single signed field and verification fails.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    ChallengeResponse,
    EnrollmentProof,
    RequestProof,
    SignedMessage,
    private_key_from_seed,
    public_key_b64,
    sign,
    signed_bytes,
    verify,
)
from pushauth_server.protocol.encoding import FieldValue
from tests.protocol.strategies import (
    challenge_responses,
    decisions,
    enrollment_proofs,
    ints,
    reasons,
    request_proofs,
    texts,
)

KEY = private_key_from_seed(bytes(range(32)))
PUBLIC_KEY = public_key_b64(KEY)
OTHER_KEY = private_key_from_seed(bytes(range(1, 33)))
KINDS = [EnrollmentProof.KIND, RequestProof.KIND, ChallengeResponse.KIND]
any_message = st.one_of(enrollment_proofs, request_proofs, challenge_responses)


class Relabelled:
    """A message with another message's fields presented under ``kind``."""

    def __init__(self, kind: str, fields: tuple[tuple[str, FieldValue], ...]) -> None:
        self.KIND = kind
        self.VERSION = PROTOCOL_VERSION
        self._fields = fields

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        return self._fields


def test_the_three_kinds_have_distinct_labels() -> None:
    assert len(set(KINDS)) == 3


@given(message=any_message, data=st.data())
def test_a_signature_never_verifies_as_another_kind(message: Any, data: st.DataObject) -> None:
    other_kind = data.draw(st.sampled_from([k for k in KINDS if k != message.KIND]))
    signature = sign(KEY, message)
    relabelled: Any = Relabelled(other_kind, message.fields())
    assert verify(public_key=PUBLIC_KEY, message=message, signature=signature)
    assert not verify(public_key=PUBLIC_KEY, message=relabelled, signature=signature)


def test_same_field_values_under_two_kinds_give_different_bytes() -> None:
    fields: tuple[tuple[str, FieldValue], ...] = (("origin", "o"), ("nonce", "n"))
    encodings = {signed_bytes(Relabelled(kind, fields)) for kind in KINDS}  # type: ignore[arg-type]
    assert len(encodings) == 3


def _changed_value(data: st.DataObject, message: Any, name: str) -> Any:
    old = getattr(message, name)
    if name == "decision":
        return data.draw(decisions.filter(lambda v: v != old))
    if name == "reason":
        return data.draw(reasons.filter(lambda v: v != old))
    if name == "method":
        # The method is signed upper-cased: "get" and "GET" are the same request.
        return data.draw(texts.filter(lambda v: v.upper() != old.upper()))
    if isinstance(old, int):
        return data.draw(ints.filter(lambda v: v != old))
    return data.draw(texts.filter(lambda v: v != old))


def _assert_every_field_is_signed(message: Any, data: st.DataObject) -> None:
    names = [field.name for field in dataclasses.fields(message)]
    name = data.draw(st.sampled_from(names))
    changed = dataclasses.replace(message, **{name: _changed_value(data, message, name)})
    signature = sign(KEY, message)
    assert verify(public_key=PUBLIC_KEY, message=message, signature=signature)
    assert not verify(public_key=PUBLIC_KEY, message=changed, signature=signature), name


@given(message=challenge_responses, data=st.data())
def test_changing_any_field_of_a_challenge_response_breaks_it(
    message: ChallengeResponse, data: st.DataObject
) -> None:
    _assert_every_field_is_signed(message, data)


@given(message=request_proofs, data=st.data())
def test_changing_any_field_of_a_request_proof_breaks_it(
    message: RequestProof, data: st.DataObject
) -> None:
    _assert_every_field_is_signed(message, data)


@given(message=enrollment_proofs, data=st.data())
def test_changing_any_field_of_an_enrollment_proof_breaks_it(
    message: EnrollmentProof, data: st.DataObject
) -> None:
    _assert_every_field_is_signed(message, data)


@pytest.mark.parametrize(
    "cls", [EnrollmentProof, RequestProof, ChallengeResponse], ids=lambda c: c.KIND
)
def test_every_dataclass_field_is_in_the_signed_fields(cls: type[Any]) -> None:
    declared = [field.name for field in dataclasses.fields(cls)]
    example = {name: 0 if name.endswith("_ms") else "x" for name in declared}
    example.update({"decision": "approve", "reason": ""} if cls is ChallengeResponse else {})
    message: SignedMessage = cls(**example)
    assert [name for name, _ in message.fields()] == declared


@given(message=any_message)
def test_another_devices_signature_does_not_verify(message: Any) -> None:
    assert not verify(public_key=PUBLIC_KEY, message=message, signature=sign(OTHER_KEY, message))


def test_method_is_signed_upper_case() -> None:
    base = {
        "origin": "o",
        "target": "/p",
        "body_sha256": "",
        "timestamp_ms": 1,
        "nonce": "n",
        "credential_id": "c",
    }
    assert signed_bytes(RequestProof(method="post", **base)) == signed_bytes(  # type: ignore[arg-type]
        RequestProof(method="POST", **base)  # type: ignore[arg-type]
    )


@given(message=any_message)
def test_verify_refuses_malformed_keys_and_signatures(message: Any) -> None:
    good = sign(KEY, message)
    for public_key, signature in [
        ("", good),
        (PUBLIC_KEY[:-2], good),  # 31 bytes
        (PUBLIC_KEY + "AA", good),  # not 32 bytes
        ("not base64!", good),
        (PUBLIC_KEY, ""),
        (PUBLIC_KEY, good[:-3]),  # truncated signature
        (PUBLIC_KEY, good + "=="),  # padded
        (PUBLIC_KEY, "A" * 86),  # 64 zero bytes
    ]:
        assert not verify(public_key=public_key, message=message, signature=signature)
