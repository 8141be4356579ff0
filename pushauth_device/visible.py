"""Text a server or relying party sent, made safe to show: nothing in it is ever interpreted.

A note, a user agent, a host name, a custom field, a device or application name can hold control
characters (a newline that fakes a second line, ESC sequences that repaint the terminal), bidi
overrides (U+202E turns ``moc.evil`` into ``live.com``) or zero-width characters (two names that
look the same). :func:`visible` writes each of them as an escape a person can read (``\\n``,
``\\x1b``, ``\\u202e``), and a backslash as ``\\\\`` so an escape cannot be faked either. Every
screen and every ``pushauth-device`` output passes such text through it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["visible"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# Cc control, Cf format (bidi controls, zero-width), Zl/Zp line and paragraph separators,
# Co private use, Cs lone surrogates, Cn unassigned: none of them is shown as itself.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    if unicodedata.category(char) not in _HIDDEN:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every invisible or layout-changing character written as an escape."""
    if text.isprintable() and "\\" not in text:
        return text  # the common case: nothing to escape
    return "".join(_escape(char) for char in text)
