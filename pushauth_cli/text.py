"""Text from the server, made safe and readable for a terminal.

Anything the server relays was written by someone else: a device name, a note, a user agent, a
custom field. Printed raw, a newline could fake a line of output, an escape sequence could
rewrite the screen, and a bidi override (U+202E) or a zero-width character could make one name
look like another. :func:`visible` shows every such character as an escape instead
(``\\n``, ``\\x1b``, ``\\u202e``), so what is printed is exactly what was sent.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

# Format characters that are not controls but change how text around them is displayed.
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
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _needs_escape(char: str) -> bool:
    if char in _ESCAPES or char in _INVISIBLE:
        return True
    # Cc: C0/C1 controls and DEL; Cf: other format characters; Cs/Co/Cn: surrogates,
    # private use and unassigned code points, whose look no terminal agrees on.
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def visible(value: object) -> str:
    """``value`` as text with every control, format or invisible character escaped."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text and not any(c in _INVISIBLE for c in text):
        return text
    return "".join(_escape(c) if _needs_escape(c) else c for c in text)


def local_zone() -> str:
    """The local time zone's abbreviation now (``UTC``, ``CET``), for a table's header."""
    return datetime.now().astimezone().strftime("%Z")


def local_time(value: str | int | float | None, *, zone: bool = True) -> str:
    """An ISO 8601 time or epoch milliseconds as local time to the second, with the zone.

    With ``zone=False`` the zone is left out when it is :func:`local_zone` (a table says it
    once, in its header), and kept when it differs (a time on the other side of a DST change).
    """
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value / 1000, tz=UTC)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return visible(value)
    local = moment.astimezone()
    if not zone and local.strftime("%Z") == local_zone():
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def readable(value: Any) -> str:
    """A detail value for a person: no Python reprs, no ``None``; nested values as k=v."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{visible(k)}={readable(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value)
    return visible(value)
