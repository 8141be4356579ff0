"""Number-matching codes: length, digits, range, constant-time comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushauth_server.protocol import codes_match, new_verification_code
from pushauth_server.protocol.codes import DEFAULT_DIGITS, MAX_DIGITS, MIN_DIGITS


@pytest.mark.parametrize("digits", range(MIN_DIGITS, MAX_DIGITS + 1))
def test_code_has_the_right_length_and_only_digits(digits: int) -> None:
    for _ in range(50):
        code = new_verification_code(digits)
        assert len(code) == digits
        assert code.isascii()
        assert code.isdigit()


def test_default_is_six_digits() -> None:
    assert DEFAULT_DIGITS == 6
    assert len(new_verification_code()) == 6


def test_range_is_two_to_eight() -> None:
    assert (MIN_DIGITS, MAX_DIGITS) == (2, 8)


@pytest.mark.parametrize("digits", [-1, 0, 1, 9, 20])
def test_out_of_range_digits_are_refused(digits: int) -> None:
    with pytest.raises(ValueError, match="between 2 and 8"):
        new_verification_code(digits)


def test_codes_keep_leading_zeros_and_vary() -> None:
    seen = {new_verification_code(2) for _ in range(2000)}
    assert len(seen) > 50  # drawn at random, not a constant
    assert all(len(code) == 2 for code in seen)
    assert any(code.startswith("0") for code in seen)


@given(code=st.text(alphabet="0123456789", min_size=2, max_size=8))
def test_codes_match_itself(code: str) -> None:
    assert codes_match(code, code)


@pytest.mark.parametrize(
    ("expected", "typed"),
    [
        ("123456", "123457"),
        ("123456", "12345"),
        ("123456", "1234567"),
        ("123456", ""),
        ("012345", "12345"),
        ("123456", " 123456"),
    ],
)
def test_codes_do_not_match(expected: str, typed: str) -> None:
    assert not codes_match(expected, typed)
