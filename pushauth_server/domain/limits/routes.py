"""Relying-party routes for a user's push sign-in state: read it, unlock it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from msgspec import Struct

from pushauth_server.clock import iso, now_ms
from pushauth_server.domain.apps.guard import require_user
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.devices.routes import UserIdParam
from pushauth_server.domain.limits.policy import LimitState
from pushauth_server.services import ServicesDep


class UserStateOut(Struct, kw_only=True):
    user_id: str
    locked: bool
    locked_reason: str | None
    locked_until: str | None
    rate_limited_until: str | None
    consecutive_failures: int


def state_out(state: LimitState) -> UserStateOut:
    now = now_ms()
    timed = state.locked_until_ms is not None and state.locked_until_ms > now
    rate = state.rate_blocked_until_ms if (state.rate_blocked_until_ms or 0) > now else None
    reason = "not_me" if state.locked_not_me else ("failures" if timed else None)
    return UserStateOut(
        user_id=state.user_id,
        locked=state.locked_not_me or timed,
        locked_reason=reason,
        locked_until=iso(state.locked_until_ms) if timed else None,
        rate_limited_until=iso(rate),
        consecutive_failures=state.consecutive_failures,
    )


class UserStateController(Controller):
    path = "/v1/users/{user_id:str}"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ADMIN}

    @get("/state", summary="A user's push sign-in state: locks, limits, failures")
    async def read(
        self, request: Request[Any, Any, Any], user_id: UserIdParam, services: ServicesDep
    ) -> UserStateOut:
        await require_user(services.audit, calling_app(request), user_id, "read a user's state")
        return state_out(await services.limits.state(user_id))

    @post("/unlock", status_code=200, summary="Lift a user's lockout (audited)")
    async def unlock(
        self, request: Request[Any, Any, Any], user_id: UserIdParam, services: ServicesDep
    ) -> UserStateOut:
        app = calling_app(request)
        await require_user(services.audit, app, user_id, "unlock a user")
        _, after = await services.limits.unlock(user_id, by=app)
        return state_out(after)
