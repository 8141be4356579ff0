"""The rule for user ids, in one place: the server's schemas and the CLI's local check use it.

A user id is the relying party's name for the user: 1 to 128 characters, starting with a letter
or digit, then letters, digits and ``. _ @ + -``. It is matched as a whole string: a trailing
newline (which ``$`` would let through) makes it invalid.
"""

from __future__ import annotations

import re

USER_ID_MAX_LENGTH = 128
USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$"
USER_ID_FORMAT = (
    "1 to 128 characters: a letter or digit first, then letters, digits and . _ @ + - "
    "(no spaces, no other characters)"
)
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")


def user_id_problem(value: str) -> str | None:
    """``None`` when ``value`` is a valid user id; otherwise what is wrong, for a person."""
    if not value:
        return "A user id cannot be empty."
    if len(value) > USER_ID_MAX_LENGTH:
        return f"A user id is at most {USER_ID_MAX_LENGTH} characters (this one has {len(value)})."
    if _USER_ID.fullmatch(value) is None:
        return f"{value!r} is not a valid user id: {USER_ID_FORMAT}."
    return None
