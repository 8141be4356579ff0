"""Each relying-party route declares the scope it needs; the API-key middleware enforces it.

A route declares it with Litestar's ``opt`` (``opt={"scope": Scope.CHALLENGES}`` on its
controller or handler). :func:`check_declared` runs when the app is built and refuses to build an
app with a relying-party route that declares none: a forgotten declaration must not mean "any
key may call it".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.handlers import BaseRouteHandler
from litestar.routes import HTTPRoute

from pushauth_server import errors
from pushauth_server.domain.apps.models import AppIdentity, Scope

SCOPE_OPT = "scope"


class RouteWithoutScope(ValueError):
    """A relying-party route declares no scope (a programming error, found at start-up)."""


def required_scope(handler: BaseRouteHandler) -> Scope | None:
    value = handler.opt.get(SCOPE_OPT)
    return value if isinstance(value, Scope) else None


def check_declared(app: Litestar, middleware: Callable[..., Any]) -> None:
    """Every route handler behind ``middleware`` (the API-key check) declares a :class:`Scope`."""
    missing = sorted(
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if middleware in handler.resolve_middleware() and required_scope(handler) is None
        for method in sorted(handler.http_methods)
    )
    if missing:
        raise RouteWithoutScope(
            "relying-party routes without a declared scope (opt={'scope': Scope...}): "
            + ", ".join(missing)
        )


def check_scope(app: AppIdentity, handler: BaseRouteHandler) -> None:
    """Refuse ``app`` when it lacks the scope ``handler`` declares."""
    needed = required_scope(handler)
    if needed is None:  # check_declared made this impossible for relying-party routes
        raise RouteWithoutScope(f"route {handler} declares no scope")
    if needed not in app.scopes:
        raise errors.InsufficientScope(
            f"This API key's application ({app.name!r}) lacks the {needed.value!r} scope this "
            f"route needs. Use a key of an application with the {needed.value!r} scope.",
            required_scope=needed.value,
            app=app.name,
        )


__all__ = ["SCOPE_OPT", "RouteWithoutScope", "check_declared", "check_scope", "required_scope"]
