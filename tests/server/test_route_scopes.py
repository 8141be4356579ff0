"""Every relying-party route declares its scope; an app with one that does not is never built."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Controller, get

from pushauth_server.app import RELYING_PARTY_HANDLERS, create_app
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.apps.scopes import RouteWithoutScope, required_scope
from tests.support.settings import TestSettings

KEY = "pak_route-scopes-" + "k" * 30


class Forgotten(Controller):
    path = "/v1/forgotten"

    @get("/")
    async def read(self) -> str:
        return "anyone with any key"


class HalfDeclared(Controller):
    path = "/v1/half"
    opt = {"scope": "admin"}  # a string, not a Scope: not a declaration

    @get("/")
    async def read(self) -> str:
        return "x"


def _settings(tmp_path: Path) -> TestSettings:
    return TestSettings(api_key=KEY, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")


@pytest.mark.parametrize("extra", [Forgotten, HalfDeclared])
def test_a_relying_party_route_without_a_scope_fails_app_construction(
    tmp_path: Path, extra: type[Controller]
) -> None:
    with pytest.raises(RouteWithoutScope, match=extra.path):
        create_app(_settings(tmp_path), relying_party_handlers=[*RELYING_PARTY_HANDLERS, extra])


def test_every_relying_party_route_declares_a_scope(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    declared = {
        (path, method): required_scope(handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for path in [route.path]
        for method in getattr(handler, "http_methods", ())
        if path.startswith("/v1/") and not path.startswith("/v1/device")
    }
    assert len(declared) >= 20
    assert all(isinstance(scope, Scope) for scope in declared.values()), declared
    assert declared["/v1/challenges", "POST"] is Scope.CHALLENGES
    assert declared["/v1/enrollment-tokens", "POST"] is Scope.ENROLLMENT
    assert declared["/v1/audit", "GET"] is Scope.ADMIN
    assert declared["/v1/apps", "POST"] is Scope.ADMIN
