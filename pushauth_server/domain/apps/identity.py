"""Where a request's application is kept once the API-key middleware has checked it."""

from __future__ import annotations

from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.types import Scope as AsgiScope

from pushauth_server.domain.apps.models import AppIdentity

_KEY = "pushauth.app"


def set_calling_app(scope: AsgiScope, app: AppIdentity) -> None:
    cast(dict[str, Any], scope)[_KEY] = app


def calling_app(connection: ASGIConnection[Any, Any, Any, Any]) -> AppIdentity:
    """The checked application of a relying-party request (set by the API-key middleware)."""
    app = cast(dict[str, Any], connection.scope).get(_KEY)
    if not isinstance(app, AppIdentity):  # a relying-party route reached without the middleware
        raise RuntimeError("no checked application on this request")
    return app
