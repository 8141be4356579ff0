"""Text someone else wrote, made safe to show: nothing in it is ever interpreted.

A note, a user agent, a host name, a custom field, a device or application name can hold control
characters (a newline that fakes a line of output, ESC sequences that repaint the terminal),
bidi overrides (U+202E turns ``moc.evil`` into ``live.com``) or zero-width characters (two names
that look the same). :func:`visible` writes each as an escape a person can read (``\\n``,
``\\x1b``, ``\\u202e``), and a backslash as ``\\\\`` so an escape cannot be faked either. The
server refuses such text in new input (:mod:`pushauth_server.protocol.text`); this is for what it
relays anyway (older rows, other servers). The ``pushauth`` CLI and the device both use it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["visible"]

# Characters that are neither controls nor format characters but change how text around them
# is displayed, or show as nothing.
_INVISIBLE = frozenset(
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers: blank but not spaces
    "\u180e"  # Mongolian vowel separator
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space / (non-)joiner, LRM, RLM
    "\u2028\u2029"  # line and paragraph separators
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space (BOM)
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# Cc control, Cf format, Zl/Zp separators, Co private use, Cs lone surrogates, Cn unassigned:
# none is shown as itself (no two terminals agree on them).
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    if char not in _INVISIBLE and unicodedata.category(char) not in _HIDDEN:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(value: object) -> str:
    """``value`` as text with every control, format or invisible character escaped."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text and not any(c in _INVISIBLE for c in text):
        return text  # the common case: nothing to escape
    return "".join(_escape(char) for char in text)
