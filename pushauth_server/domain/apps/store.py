"""Application and API-key queries.

The one on the hot path is :data:`_BY_KEY_HASH`: a relying-party request with an application key
costs one indexed read (``api_keys.key_hash`` is unique) joining the key to its application, so a
rotation or revocation made by any process is seen by every process on the next request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from pushauth_server.domain.apps.models import AppIdentity, Scope
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import api_keys, applications

_A = applications.c
_K = api_keys.c


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKeyRow:
    key_id: str
    created_at_ms: int
    expires_at_ms: int | None
    revoked_at_ms: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Application:
    """An application as stored, with its keys (newest first)."""

    identity: AppIdentity
    created_at_ms: int
    last_used_at_ms: int | None
    revoked_at_ms: int | None
    keys: tuple[ApiKeyRow, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyMatch:
    """What one key-hash lookup finds: the application and that key's own state."""

    identity: AppIdentity
    app_revoked_at_ms: int | None
    key_expires_at_ms: int | None
    key_revoked_at_ms: int | None


def scopes_text(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(scopes))


def _identity(row: Any) -> AppIdentity:
    users = json.loads(row.users_json) if row.users_json is not None else None
    return AppIdentity(
        app_id=row.app_id,
        name=row.name,
        display_name=row.display_name,
        scopes=frozenset(Scope(s) for s in row.scopes.split() if s in Scope.__members__.values()),
        users=tuple(users) if users is not None else None,
    )


_BY_KEY_HASH = (
    select(
        _A.app_id,
        _A.name,
        _A.display_name,
        _A.scopes,
        _A.users_json,
        _A.revoked_at_ms,
        _K.expires_at_ms.label("key_expires_at_ms"),
        _K.revoked_at_ms.label("key_revoked_at_ms"),
    )
    .select_from(api_keys.join(applications, _A.app_id == _K.app_id))
    .where(_K.key_hash == bindparam("key_hash"))
)


async def by_key_hash(connection: Connection, digest: str) -> KeyMatch | None:
    row = (await connection.execute(_BY_KEY_HASH, {"key_hash": digest})).first()
    if row is None:
        return None
    return KeyMatch(
        identity=_identity(row),
        app_revoked_at_ms=row.revoked_at_ms,
        key_expires_at_ms=row.key_expires_at_ms,
        key_revoked_at_ms=row.key_revoked_at_ms,
    )


async def _keys(connection: Connection, app_ids: list[str]) -> dict[str, list[ApiKeyRow]]:
    found: dict[str, list[ApiKeyRow]] = {app_id: [] for app_id in app_ids}
    if not app_ids:
        return found
    rows = await connection.execute(
        select(_K.app_id, _K.key_id, _K.created_at_ms, _K.expires_at_ms, _K.revoked_at_ms)
        .where(_K.app_id.in_(app_ids))
        .order_by(_K.created_at_ms.desc(), _K.key_id)
    )
    for row in rows:
        found[row.app_id].append(
            ApiKeyRow(
                key_id=row.key_id,
                created_at_ms=row.created_at_ms,
                expires_at_ms=row.expires_at_ms,
                revoked_at_ms=row.revoked_at_ms,
            )
        )
    return found


def _application(row: Any, keys: list[ApiKeyRow]) -> Application:
    return Application(
        identity=_identity(row),
        created_at_ms=row.created_at_ms,
        last_used_at_ms=row.last_used_at_ms,
        revoked_at_ms=row.revoked_at_ms,
        keys=tuple(keys),
    )


async def all_apps(connection: Connection) -> list[Application]:
    rows = (await connection.execute(select(applications).order_by(_A.name))).all()
    keys = await _keys(connection, [row.app_id for row in rows])
    return [_application(row, keys[row.app_id]) for row in rows]


async def by_name(connection: Connection, name: str) -> Application | None:
    row = (await connection.execute(select(applications).where(_A.name == name))).first()
    if row is None:
        return None
    keys = await _keys(connection, [row.app_id])
    return _application(row, keys[row.app_id])


async def name_taken(connection: Connection, name: str) -> bool:
    found = await connection.execute(
        select(func.count()).select_from(applications).where(_A.name == name)
    )
    return bool(found.scalar_one())


async def add_app(connection: Connection, identity: AppIdentity, created_at_ms: int) -> None:
    await connection.execute(
        insert(applications).values(
            app_id=identity.app_id,
            name=identity.name,
            display_name=identity.display_name,
            scopes=scopes_text(identity.scopes),
            users_json=json.dumps(list(identity.users)) if identity.users is not None else None,
            created_at_ms=created_at_ms,
        )
    )


async def add_key(
    connection: Connection, *, key_id: str, app_id: str, digest: str, created_at_ms: int
) -> None:
    await connection.execute(
        insert(api_keys).values(
            key_id=key_id, app_id=app_id, key_hash=digest, created_at_ms=created_at_ms
        )
    )


async def end_keys_at(connection: Connection, app_id: str, ends_at_ms: int) -> int:
    """Every live key of the app stops at ``ends_at_ms`` (or earlier, if already due then)."""
    result = await connection.execute(
        update(api_keys)
        .where(
            _K.app_id == app_id,
            _K.revoked_at_ms.is_(None),
            (_K.expires_at_ms.is_(None)) | (_K.expires_at_ms > ends_at_ms),
        )
        .values(expires_at_ms=ends_at_ms)
    )
    return int(result.rowcount or 0)


async def revoke(connection: Connection, app_id: str, now_ms: int) -> None:
    await connection.execute(
        update(applications)
        .where(_A.app_id == app_id, _A.revoked_at_ms.is_(None))
        .values(revoked_at_ms=now_ms)
    )
    await connection.execute(
        update(api_keys)
        .where(_K.app_id == app_id, _K.revoked_at_ms.is_(None))
        .values(revoked_at_ms=now_ms)
    )


async def set_display_name(connection: Connection, app_id: str, display_name: str) -> None:
    await connection.execute(
        update(applications).where(_A.app_id == app_id).values(display_name=display_name)
    )


_TOUCH = (
    update(applications)
    .where(
        _A.app_id == bindparam("b_app_id"),
        (_A.last_used_at_ms.is_(None)) | (_A.last_used_at_ms < bindparam("b_used")),
    )
    .values(last_used_at_ms=bindparam("b_used"))
)


async def touch(connection: Connection, used: dict[str, int]) -> None:
    """Record when each application was last used (never moves a time backwards)."""
    await connection.execute(
        _TOUCH, [{"b_app_id": app_id, "b_used": at} for app_id, at in sorted(used.items())]
    )
