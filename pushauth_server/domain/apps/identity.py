"""Where a request's application is kept once the API-key middleware has checked it."""

from __future__ import annotations

from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.types import Scope as AsgiScope

from pushauth_server.domain.apps.models import AppIdentity

_KEY = "pushauth.app"
_KEY_HASH = "pushauth.app_key_hash"


def set_calling_app(scope: AsgiScope, app: AppIdentity, key_digest: str | None = None) -> None:
    """``key_digest``: the SHA-256 of the application key presented (None: the bootstrap key),
    so a long request (a stream) can check later that the key still works."""
    cast(dict[str, Any], scope)[_KEY] = app
    cast(dict[str, Any], scope)[_KEY_HASH] = key_digest


def calling_key_hash(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The SHA-256 of the request's application key; None for the bootstrap key."""
    digest = cast(dict[str, Any], connection.scope).get(_KEY_HASH)
    return digest if isinstance(digest, str) else None


def calling_app(connection: ASGIConnection[Any, Any, Any, Any]) -> AppIdentity:
    """The checked application of a relying-party request (set by the API-key middleware)."""
    app = cast(dict[str, Any], connection.scope).get(_KEY)
    if not isinstance(app, AppIdentity):  # a relying-party route reached without the middleware
        raise RuntimeError("no checked application on this request")
    return app
