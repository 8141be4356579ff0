"""The user-restriction check as routes run it: refused requests are audited like other
refusals (counted per client address, folded by domain/audit/noise.py)."""

from __future__ import annotations

from pushauth_server.domain.apps.access import user_not_allowed
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


__all__ = ["require_user"]
