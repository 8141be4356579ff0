"""Server-provided text is printed visibly escaped: never interpreted by the terminal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pushauth_cli.text import local_time, readable, visible


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("laptop", "laptop"),
        ("Émilie's 📱", "Émilie's 📱"),  # letters and emoji are text, not controls
        ("a\nApproved by alice", "a\\nApproved by alice"),  # a fake second line
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),  # terminal escape sequences
        ("admin\u202egnp.exe", "admin\\u202egnp.exe"),  # bidi override (looks like admin.png)
        ("al\u200bice", "al\\u200bice"),  # zero-width space: two names that look the same
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),  # bidi isolates
        ("tab\there\r", "tab\\there\\r"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1\x9bcsi", "c1\\x9bcsi"),  # the 8-bit CSI
        ("back\\nslash", "back\\\\nslash"),  # a literal backslash-n is not a newline
        ("bom\ufeff", "bom\\ufeff"),
    ],
)
def test_visible_escapes_what_a_terminal_would_interpret(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible(raw).isprintable()


def test_local_time_is_local_and_to_the_second() -> None:
    moment = datetime(2026, 11, 24, 9, 30, 15, 123000, tzinfo=UTC)
    expected = moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    assert local_time("2026-11-24T09:30:15.123+00:00") == expected
    assert local_time(int(moment.timestamp() * 1000)) == expected
    assert local_time(None) == ""
    assert local_time("not a time\n") == "not a time\\n"


def test_readable_details_have_no_python_reprs() -> None:
    shown = readable({"consecutive_failures": 2, "locked_not_me": False, "until": None})
    assert shown == "consecutive_failures=2, locked_not_me=no"
    for python_repr in ("None", "{", "'"):
        assert python_repr not in shown
    assert readable(None) == "-"
    assert readable(["a\n", 1]) == "a\\n, 1"
