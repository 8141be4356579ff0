"""Canonical encoding: unambiguous, domain-labelled; base64url helpers strict."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushauth_server.protocol import b64url_decode, b64url_encode, canonical_bytes
from pushauth_server.protocol.encoding import FieldValue

values = st.one_of(st.text(max_size=20), st.integers(min_value=0, max_value=2**64), st.binary())
field_lists = st.lists(st.tuples(st.text(max_size=10), values), max_size=5)
kinds = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)


def reference_encoding(kind: str, fields: list[tuple[str, FieldValue]]) -> bytes:
    """An independent encoder written from the module docstring, to check the real one."""
    out = b"pushauth\x00" + b"\x03" + kind.encode("ascii") + b"\x00"
    for name, value in fields:
        raw = (
            str(value).encode()
            if isinstance(value, int)
            else value.encode("utf-8")
            if isinstance(value, str)
            else value
        )
        out += struct.pack(">H", len(name.encode())) + name.encode() + struct.pack(">I", len(raw))
        out += raw
    return out


@given(kind=kinds, fields=field_lists)
def test_matches_the_documented_layout(kind: str, fields: list[tuple[str, FieldValue]]) -> None:
    assert canonical_bytes(kind, fields) == reference_encoding(kind, fields)


@given(a=st.text(max_size=20), b=st.text(max_size=20), data=st.data())
def test_moving_bytes_between_adjacent_fields_changes_the_encoding(
    a: str, b: str, data: st.DataObject
) -> None:
    joined = a + b
    cut = data.draw(st.integers(min_value=0, max_value=len(joined)))
    # Same concatenated text, a different boundary: must never encode the same.
    moved = [("x", joined[:cut]), ("y", joined[cut:])]
    original = [("x", a), ("y", b)]
    if cut != len(a):
        assert canonical_bytes("k", moved) != canonical_bytes("k", original)


@given(kind=kinds, left=field_lists, right=field_lists)
def test_different_fields_never_encode_the_same(
    kind: str, left: list[tuple[str, FieldValue]], right: list[tuple[str, FieldValue]]
) -> None:
    def normal(fields: list[tuple[str, FieldValue]]) -> list[tuple[str, bytes]]:
        return [
            (n, reference_encoding("k", [(n, v)])[len(b"pushauth\x00\x03k\x00") :])
            for n, v in fields
        ]

    if normal(left) != normal(right):
        assert canonical_bytes(kind, left) != canonical_bytes(kind, right)


def test_name_and_value_boundary_is_unambiguous() -> None:
    assert canonical_bytes("k", [("ab", "c")]) != canonical_bytes("k", [("a", "bc")])


def test_a_field_cannot_swallow_the_next_one() -> None:
    one = canonical_bytes("k", [("a", "x"), ("b", "y")])
    two = canonical_bytes("k", [("a", "x\x00\x01b\x00\x00\x00\x01y")])
    assert one != two


@given(fields=field_lists)
def test_kind_label_separates_domains(fields: list[tuple[str, FieldValue]]) -> None:
    assert canonical_bytes("challenge-response", fields) != canonical_bytes("request-proof", fields)


def test_kind_cannot_spill_into_fields() -> None:
    # The 0x00 after the label keeps "ab" + fields apart from "a" + other fields.
    assert canonical_bytes("ab", []) != canonical_bytes("a", [("", "")])[: len("ab") + 11]
    assert canonical_bytes("ab", []) != canonical_bytes("a", [])


def test_booleans_are_refused() -> None:
    with pytest.raises(TypeError):
        canonical_bytes("k", [("flag", True)])


def test_ints_encode_as_decimal_ascii() -> None:
    assert canonical_bytes("k", [("n", 1234)]) == canonical_bytes("k", [("n", "1234")])


@given(data=st.binary())
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert not set(text) & set("=+/")
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "AAE=",  # padded
        "AA==",  # padded
        "+/8",  # standard alphabet, not URL-safe
        "a/b",
        "AA E",  # whitespace
        "AAE\n",
        "A",  # impossible length
        "AAAAA",  # impossible length
        "AA*A",  # not in the alphabet
        "AAé",  # not ASCII
    ],
)
def test_b64url_decode_rejects_invalid_input(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the documented contract is ValueError
        b64url_decode(text)


@pytest.mark.parametrize("text", ["AB", "AAB", "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbh"])
def test_b64url_decode_rejects_non_canonical_trailing_bits(text: str) -> None:
    # "AB" decodes to the same byte as "AA": two spellings of one key or signature would let a
    # signature string be altered without changing what it verifies as.
    with pytest.raises(ValueError, match="canonical"):
        b64url_decode(text)


def test_b64url_decode_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="base64"):
        b64url_decode(b"AAAA")  # type: ignore[arg-type]
