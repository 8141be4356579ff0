"""An application's user restriction: exact user ids and ``*`` patterns (``deploy-*``)."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase


def allows(users: Sequence[str] | None, user_id: str) -> bool:
    """Whether an application restricted to ``users`` (None: no restriction) may act for
    ``user_id``. Only ``*`` is special in a pattern; it matches any run of characters."""
    if users is None:
        return True
    for entry in users:
        if "*" not in entry:
            if entry == user_id:
                return True
        elif fnmatchcase(user_id, entry.replace("[", "[[]").replace("?", "[?]")):
            return True
    return False
