"""Wire shapes of the application API (``/v1/apps``)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from pushauth_server.clock import iso, now_ms
from pushauth_server.domain.apps.models import OPERATOR_APP_ID, Scope
from pushauth_server.domain.apps.names import (
    APP_NAME_FORMAT,
    APP_NAME_MAX_LENGTH,
    APP_NAME_PATTERN,
    DISPLAY_NAME_MAX_LENGTH,
    USER_ENTRY_MAX_LENGTH,
    USER_ENTRY_PATTERN,
    USERS_MAX_ENTRIES,
    app_name_problem,
    display_name_problem,
    user_entry_problem,
)
from pushauth_server.domain.apps.service import DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS
from pushauth_server.domain.apps.store import ApiKeyRow, Application
from pushauth_server.domain.challenges.schemas import check_text
from pushauth_server.protocol.text import SAFE_TEXT_PATTERN, UNSAFE_TEXT_RULE

AppName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=APP_NAME_MAX_LENGTH,
        pattern=APP_NAME_PATTERN,
        description=f"The application's name: {APP_NAME_FORMAT}.",
    ),
]
DisplayName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        pattern=SAFE_TEXT_PATTERN,
        description=f"The name people see (the device shows it): {UNSAFE_TEXT_RULE}.",
    ),
]
UserEntry = Annotated[
    str, Meta(min_length=1, max_length=USER_ENTRY_MAX_LENGTH, pattern=USER_ENTRY_PATTERN)
]


def _check_display_name(value: str) -> None:
    check_text("display_name", value)
    problem = display_name_problem(value)
    if problem:
        raise ValueError(problem)


class CreateAppIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: AppName
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=len(Scope))]
    display_name: DisplayName | None = None  # default: the name
    users: Annotated[list[UserEntry], Meta(min_length=1, max_length=USERS_MAX_ENTRIES)] | None = (
        None  # None: every user
    )

    def __post_init__(self) -> None:
        problem = app_name_problem(self.name)
        if problem:
            raise ValueError(f"name: {problem}")
        if self.display_name is not None:
            _check_display_name(self.display_name)
        for entry in self.users or ():
            entry_problem = user_entry_problem(entry)
            if entry_problem:
                raise ValueError(f"users: {entry_problem}")


class UpdateAppIn(Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: DisplayName

    def __post_init__(self) -> None:
        _check_display_name(self.display_name)


class RotateIn(Struct, forbid_unknown_fields=True, kw_only=True):
    grace_seconds: Annotated[float, Meta(ge=0, le=MAX_GRACE_SECONDS)] = DEFAULT_GRACE_SECONDS


class KeyOut(Struct, kw_only=True):
    key_id: str
    state: str  # "active", "grace" (rotated, works until expires_at), "expired", "revoked"
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class AppOut(Struct, kw_only=True):
    app_id: str
    name: str
    display_name: str
    scopes: list[str]
    users: list[str] | None  # None: every user
    state: str  # "active" or "revoked"
    bootstrap: bool  # the built-in operator app: its key is PUSHAUTH_API_KEY
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    keys: list[KeyOut]


class AppWithKeyOut(AppOut, kw_only=True):
    key: str  # the new key: shown this once, never stored
    old_keys_stop_at: str | None = None  # after a rotation: when the previous keys stop


def _key_state(key: ApiKeyRow, now: int) -> str:
    if key.revoked_at_ms is not None:
        return "revoked"
    if key.expires_at_ms is not None:
        return "grace" if key.expires_at_ms > now else "expired"
    return "active"


def app_out(app: Application, *, last_used_here: int | None = None) -> AppOut:
    now = now_ms()
    identity = app.identity
    last_used = max(app.last_used_at_ms or 0, last_used_here or 0) or None
    return AppOut(
        app_id=identity.app_id,
        name=identity.name,
        display_name=identity.display_name,
        scopes=sorted(identity.scopes),
        users=list(identity.users) if identity.users is not None else None,
        state="revoked" if app.revoked_at_ms is not None else "active",
        bootstrap=identity.app_id == OPERATOR_APP_ID,
        created_at=iso(app.created_at_ms) or "",
        last_used_at=iso(last_used),
        revoked_at=iso(app.revoked_at_ms),
        keys=[
            KeyOut(
                key_id=key.key_id,
                state=_key_state(key, now),
                created_at=iso(key.created_at_ms) or "",
                expires_at=iso(key.expires_at_ms),
                revoked_at=iso(key.revoked_at_ms),
            )
            for key in app.keys
        ],
    )


def with_key(out: AppOut, key: str, old_keys_stop_at_ms: int | None = None) -> AppWithKeyOut:
    fields = {name: getattr(out, name) for name in out.__struct_fields__}
    return AppWithKeyOut(**fields, key=key, old_keys_stop_at=iso(old_keys_stop_at_ms))
