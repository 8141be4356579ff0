"""The user-restriction check as routes run it: refused requests are audited like other
refusals (counted per client address, folded by domain/audit/noise.py)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from pushauth_server.domain.apps.access import check_unrestricted, user_not_allowed
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.apps.restriction import allows
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord


async def require_user(audit: AuditLog, app: AppIdentity, user_id: str, what: str) -> None:
    """Refuse (403 ``user_not_allowed``) an app restricted to other users, before any read: the
    answer is the same whether or not ``user_id`` exists."""
    if allows(app.users, user_id):
        return
    await audit.record(
        AuditRecord(
            event=AuditEvent.USER_NOT_ALLOWED,
            detail={"what": what, "user_id": user_id, "app_id": app.app_id, "app": app.name},
        ),
        authenticated=True,
    )
    raise user_not_allowed(app)


def unrestricted_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """A Litestar guard: the route is for an application without a user restriction (webhooks
    of any application: a ``deploy-*`` admin must not subscribe to every user's events)."""
    check_unrestricted(calling_app(connection))


__all__ = ["require_user", "unrestricted_admin"]
