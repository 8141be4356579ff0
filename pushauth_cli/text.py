"""Text from the server, made safe and readable for a terminal.

Anything the server relays was written by someone else: a device name, a note, a user agent, a
custom field. Printed raw, a newline could fake a line of output, an escape sequence could
rewrite the screen, and a bidi override (U+202E) or a zero-width character could make one name
look like another. :func:`visible` shows every such character as an escape instead
(``\\n``, ``\\x1b``, ``\\u202e``), so what is printed is exactly what was sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pushauth_server.visible import visible

__all__ = ["local_time", "local_zone", "readable", "visible"]


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
