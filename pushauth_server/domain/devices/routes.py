"""Relying-party routes for users and their devices: list, look up and revoke."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from msgspec import Struct

from pushauth_server.clock import iso
from pushauth_server.domain.apps.access import visible
from pushauth_server.domain.apps.guard import require_user
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.devices.models import Credential
from pushauth_server.services import ServicesDep

UserIdParam = Annotated[
    str, Parameter(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
]

CredentialIdParam = Annotated[str, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class DeviceOut(Struct, kw_only=True):
    credential_id: str
    user_id: str
    name: str
    state: str
    enrolled_at: str
    last_used_at: str | None
    revoked_at: str | None


def device_out(credential: Credential) -> DeviceOut:
    return DeviceOut(
        credential_id=credential.credential_id,
        user_id=credential.user_id,
        name=credential.name,
        state="revoked" if credential.is_revoked else "active",
        enrolled_at=iso(credential.created_at_ms) or "",
        last_used_at=iso(credential.last_used_at_ms),
        revoked_at=iso(credential.revoked_at_ms),
    )


class UserOut(Struct, kw_only=True):
    user_id: str
    active_devices: int
    revoked_devices: int
    last_used_at: str | None


class DeviceSelfController(Controller):
    path = "/v1/device"
    tags = ["device"]

    @post(
        "/revoke",
        status_code=200,
        summary="Revoke this device's own credential (signed by it)",
        security=[{"DeviceProof": []}],
    )
    async def revoke_self(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> DeviceOut:
        """A user retiring a device from the device itself; takes effect at once."""
        credential = await services.device_auth.authenticate(request)
        return device_out(await services.devices.revoke(credential.credential_id, by="device"))


class DevicesController(Controller):
    path = "/v1"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ADMIN}

    # A user-restricted admin app sees, in every list, only its users.
    @get("/users", summary="List the users who have, or had, an enrolled device")
    async def list_users(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> list[UserOut]:
        users = visible(calling_app(request), await services.devices.users(), lambda u: u.user_id)
        return [
            UserOut(
                user_id=user.user_id,
                active_devices=user.active_devices,
                revoked_devices=user.revoked_devices,
                last_used_at=iso(user.last_used_at_ms),
            )
            for user in users
        ]

    @get("/devices", summary="List every user's devices")
    async def list_all_devices(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> list[DeviceOut]:
        found = visible(calling_app(request), await services.devices.list_all(), _user_of)
        return [device_out(c) for c in found]

    @get("/devices/{credential_id:str}", summary="One device, by credential id")
    async def get_device(
        self,
        request: Request[Any, Any, Any],
        credential_id: CredentialIdParam,
        services: ServicesDep,
    ) -> DeviceOut:
        return device_out(await services.devices.get(credential_id, calling_app(request)))

    @get("/users/{user_id:str}/devices", summary="List a user's devices")
    async def list_devices(
        self, request: Request[Any, Any, Any], user_id: UserIdParam, services: ServicesDep
    ) -> list[DeviceOut]:
        await require_user(services.audit, calling_app(request), user_id, "list devices")
        return [device_out(c) for c in await services.devices.list_for_user(user_id)]

    @post("/devices/{credential_id:str}/revoke", status_code=200, summary="Revoke a device now")
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        credential_id: CredentialIdParam,
        services: ServicesDep,
    ) -> DeviceOut:
        app = calling_app(request)
        return device_out(await services.devices.revoke(credential_id, app=app))


def _user_of(credential: Credential) -> str:
    return credential.user_id
