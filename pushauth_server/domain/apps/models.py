"""What a relying-party request is known to be once its API key is checked: an application."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What an application's keys may do (docs/operations.md, "Applications")."""

    CHALLENGES = "challenges"  # create, read, wait on and cancel challenges
    ENROLLMENT = "enrollment"  # issue enrollment tokens
    ADMIN = "admin"  # devices, revoke, user state, unlock, audit, applications, webhooks


ALL_SCOPES = frozenset(Scope)

OPERATOR_APP_ID = "app_operator"
"""The built-in application the bootstrap key (``PUSHAUTH_API_KEY``) acts as."""
OPERATOR_APP_NAME = "operator"
OPERATOR_DISPLAY_NAME = "Operator"


@dataclass(frozen=True, kw_only=True, slots=True)
class AppIdentity:
    """The application a request's API key belongs to."""

    app_id: str
    name: str
    display_name: str
    scopes: frozenset[Scope]
    users: tuple[str, ...] | None = None  # None: every user; else ids and `*` patterns


OPERATOR = AppIdentity(
    app_id=OPERATOR_APP_ID,
    name=OPERATOR_APP_NAME,
    display_name=OPERATOR_DISPLAY_NAME,
    scopes=ALL_SCOPES,
)
