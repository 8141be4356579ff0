"""What text a person will see may contain: no control, bidirectional or invisible characters.

User ids, device names, actions and every context field are printed on the device and by the
CLI. A C0/C1 control (a newline, an ANSI escape), a bidirectional override (U+202E turns
``moc.evil`` into ``live.com``) or a zero-width character (two names that look the same) would let
a requester shape what the user reads, so such text is refused at the API, naming the field.
"""

from __future__ import annotations

import unicodedata

# Bidirectional formatting characters (Unicode UAX #9): marks, embeddings, overrides, isolates.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Invisible characters that make two different strings look alike.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u180e\ufeff")
# Line and paragraph separators: line breaks outside C0.
SEPARATORS = frozenset("\u2028\u2029")

# The same rule as a pattern (ECMA-262 and Python agree on it), for schemas; whole-string matching
# is still checked in code (``unsafe_character``), since Python's ``$`` allows a final newline.
SAFE_TEXT_PATTERN = (
    "^[^\\x00-\\x1f\\x7f-\\x9f\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e"
    "\\u2028\\u2029\\u2060\\u2066-\\u2069\\ufeff]*$"
)

UNSAFE_TEXT_RULE = (
    "no control characters (U+0000-U+001F, U+007F-U+009F), bidirectional controls "
    "(U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), zero-width characters "
    "(U+180E, U+200B-U+200D, U+2060, U+FEFF) or line separators (U+2028, U+2029)"
)


def unsafe_character(value: str) -> str | None:
    """The first character of ``value`` the rule refuses, or ``None``."""
    for char in value:
        code = ord(char)
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or char in BIDI_CONTROLS
            or char in ZERO_WIDTH
            or char in SEPARATORS
            or 0xD800 <= code <= 0xDFFF  # a lone surrogate is not text
        ):
            return char
    return None


def text_problem(field: str, value: str) -> str | None:
    """``None`` when ``value`` is safe to show; otherwise a message naming ``field``."""
    char = unsafe_character(value)
    if char is None:
        return None
    name = unicodedata.name(char, "a control character")
    return f"{field} contains U+{ord(char):04X} ({name}); {field} allows {UNSAFE_TEXT_RULE}"
