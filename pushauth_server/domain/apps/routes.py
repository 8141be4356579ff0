"""Relying-party routes for applications (``admin`` scope, and no user restriction)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, Parameter

from pushauth_server.domain.apps.access import check_unrestricted
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.models import AppIdentity, Scope
from pushauth_server.domain.apps.names import APP_NAME_MAX_LENGTH, APP_NAME_PATTERN
from pushauth_server.domain.apps.schemas import (
    AppOut,
    AppWithKeyOut,
    CreateAppIn,
    RotateIn,
    UpdateAppIn,
    app_out,
    with_key,
)
from pushauth_server.domain.apps.store import Application
from pushauth_server.services import ServicesDep

NameParam = Annotated[
    str,
    Parameter(
        min_length=1,
        max_length=APP_NAME_MAX_LENGTH,
        pattern=APP_NAME_PATTERN,
        description="The application's name.",
    ),
]


def _admin(request: Request[Any, Any, Any]) -> AppIdentity:
    app = calling_app(request)
    check_unrestricted(app)
    return app


def _out(services: ServicesDep, app: Application) -> AppOut:
    return app_out(app, last_used_here=services.apps.last_used_here(app.identity.app_id))


class AppsController(Controller):
    path = "/v1/apps"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ADMIN}

    @get("/", summary="List the applications and the state of their keys")
    async def list_apps(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> list[AppOut]:
        _admin(request)
        return [_out(services, app) for app in await services.apps.list()]

    @post("/", status_code=201, summary="Create an application; its key is shown this once")
    async def create(
        self, request: Request[Any, Any, Any], data: JSONBody[CreateAppIn], services: ServicesDep
    ) -> AppWithKeyOut:
        by = _admin(request)
        created, key = await services.apps.create(
            name=data.name,
            display_name=data.display_name or data.name,
            scopes=frozenset(data.scopes),
            users=tuple(data.users) if data.users is not None else None,
            by=by,
        )
        return with_key(_out(services, created), key)

    @get("/{name:str}", summary="One application, by name")
    async def show(
        self, request: Request[Any, Any, Any], name: NameParam, services: ServicesDep
    ) -> AppOut:
        _admin(request)
        return _out(services, await services.apps.get(name))

    @patch("/{name:str}", summary="Change an application's display name")
    async def update(
        self,
        request: Request[Any, Any, Any],
        name: NameParam,
        data: JSONBody[UpdateAppIn],
        services: ServicesDep,
    ) -> AppOut:
        by = _admin(request)
        return _out(
            services, await services.apps.update(name, display_name=data.display_name, by=by)
        )

    @post(
        "/{name:str}/rotate",
        status_code=200,
        summary="A new key; the old ones keep working for the grace period, then stop",
    )
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        name: NameParam,
        data: JSONBody[RotateIn],
        services: ServicesDep,
    ) -> AppWithKeyOut:
        """Body: ``{"grace_seconds": S}`` (default 86400: 24 hours; 0 stops the old keys now)."""
        by = _admin(request)
        grace = data.grace_seconds
        rotated, key, ends = await services.apps.rotate(name, grace_seconds=grace, by=by)
        return with_key(_out(services, rotated), key, ends)

    @post("/{name:str}/revoke", status_code=200, summary="Stop every key of an application now")
    async def revoke(
        self, request: Request[Any, Any, Any], name: NameParam, services: ServicesDep
    ) -> AppOut:
        by = _admin(request)
        return _out(services, await services.apps.revoke(name, by=by))
