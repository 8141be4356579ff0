"""An open stream's second look at its key (domain/apps/live.py), against real databases."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from pushauth_server.domain.apps.identity import set_calling_app
from pushauth_server.domain.apps.keys import key_hash
from pushauth_server.domain.apps.live import KeyStillLive
from pushauth_server.domain.apps.models import OPERATOR, Scope
from pushauth_server.domain.apps.service import AppService
from pushauth_server.storage import Database
from tests.server.test_storage import Stack, database, stack  # noqa: F401 - fixtures


def _connection(key: str | None) -> ASGIConnection[Any, Any, Any, Any]:
    scope: Any = {"type": "http", "path": "/v1/audit/stream", "headers": []}
    set_calling_app(scope, OPERATOR, None if key is None else key_hash(key))
    return ASGIConnection(scope)


async def test_a_revoked_key_is_seen_and_the_bootstrap_key_needs_no_read(stack: Stack) -> None:
    apps = stack.services.apps
    _, key = await apps.create(
        name="auditor",
        display_name="Auditor",
        scopes=frozenset({Scope.ADMIN}),
        users=None,
        by=OPERATOR,
    )
    check = KeyStillLive(apps, _connection(key), interval=0)
    assert await check()
    await apps.revoke("auditor", by=OPERATOR)
    assert not await check()
    assert await KeyStillLive(apps, _connection(None), interval=0)()


async def test_when_the_database_cannot_answer_the_stream_ends(stack: Stack) -> None:
    """Fail closed: a key that cannot be checked again does not keep its stream (nothing
    listens on port 9)."""
    unreachable = Database("postgresql+asyncpg://pushauth@127.0.0.1:9/none")
    try:
        apps = AppService(unreachable, stack.services.audit)
        assert not await KeyStillLive(apps, _connection("pak_" + "a" * 43), interval=0)()
    finally:
        await unreachable.dispose()
