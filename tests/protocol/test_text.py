"""The visible-text rule (issue 9): what a person reads cannot disguise itself."""

from __future__ import annotations

import pytest

from pushauth_server.protocol.identifiers import user_id_problem
from pushauth_server.protocol.text import text_problem, unsafe_character

REFUSED = [
    "\x00", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\x9b",  # C0 and C1 controls
    "\u202e", "\u202d", "\u2066", "\u200f", "\u061c",  # bidirectional controls
    "\u200b", "\u200d", "\u2060", "\ufeff",  # zero-width
    "\u2028",  # line separator
]  # fmt: skip


@pytest.mark.parametrize("char", REFUSED)
def test_unsafe_characters_are_refused_anywhere(char: str) -> None:
    for value in (char, f"phone{char}", f"{char}phone", f"ph{char}one"):
        assert unsafe_character(value) == char[0]
        problem = text_problem("device_name", value)
        assert problem is not None
        assert problem.startswith("device_name contains U+")


@pytest.mark.parametrize("value", ["", "Alice's phone", "Zürich VPN — 東京", "😀 laptop", "a b"])
def test_ordinary_text_is_accepted(value: str) -> None:
    assert text_problem("device_name", value) is None


@pytest.mark.parametrize("value", ["alice\n", "alice\r\n", "\nalice", "ali\nce", "alice "])
def test_a_user_id_is_matched_as_a_whole_string(value: str) -> None:
    assert user_id_problem(value) is not None
