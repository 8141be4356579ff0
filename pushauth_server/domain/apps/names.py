"""The rules for an application's name, display name and user restriction (a light module: the
CLI checks them locally with it, before sending anything)."""

from __future__ import annotations

import re

APP_NAME_MAX_LENGTH = 40
APP_NAME_PATTERN = r"^[a-z][a-z0-9_-]*$"
APP_NAME_FORMAT = (
    "1 to 40 characters: a lowercase letter first, then lowercase letters, digits, _ and -"
)
DISPLAY_NAME_MAX_LENGTH = 64
USERS_MAX_ENTRIES = 100
# A user id, or a pattern where * matches any run of characters (deploy-*).
USER_ENTRY_MAX_LENGTH = 128
USER_ENTRY_PATTERN = r"^[A-Za-z0-9*][A-Za-z0-9._@+*-]*$"

_NAME = re.compile(APP_NAME_PATTERN[1:-1])
_ENTRY = re.compile(USER_ENTRY_PATTERN[1:-1])


def app_name_problem(value: str) -> str | None:
    if not value or len(value) > APP_NAME_MAX_LENGTH or _NAME.fullmatch(value) is None:
        return f"{value!r} is not a valid application name: {APP_NAME_FORMAT}."
    return None


def display_name_problem(value: str) -> str | None:
    """The device shows the display name as the asking application: it must name something
    (not blank), with no spaces around it (ASCII or not) to pad or hide it."""
    if not value.strip() or value != value.strip():
        return (
            f"display_name {value!r} must name the application: not blank, and no spaces "
            "at its start or end."
        )
    return None


def user_entry_problem(value: str) -> str | None:
    if not value or len(value) > USER_ENTRY_MAX_LENGTH or _ENTRY.fullmatch(value) is None:
        return (
            f"{value!r} is neither a user id nor a pattern: letters, digits, . _ @ + - and * "
            f"(any run of characters), at most {USER_ENTRY_MAX_LENGTH}, not starting with "
            ". _ @ + -."
        )
    return None


__all__ = [
    "APP_NAME_MAX_LENGTH",
    "APP_NAME_PATTERN",
    "DISPLAY_NAME_MAX_LENGTH",
    "USERS_MAX_ENTRIES",
    "USER_ENTRY_MAX_LENGTH",
    "USER_ENTRY_PATTERN",
    "app_name_problem",
    "display_name_problem",
    "user_entry_problem",
]
