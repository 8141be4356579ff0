"""Enrollment routes: relying parties issue tokens; devices redeem them with a key proof."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from pushauth_server.clock import iso
from pushauth_server.domain.apps.guard import require_user
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.enrollment.schemas import (
    EnrollmentTokenIn,
    EnrollmentTokenOut,
    RegisterIn,
    RegisterOut,
)
from pushauth_server.services import ServicesDep


class EnrollmentTokenController(Controller):
    path = "/v1/enrollment-tokens"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ENROLLMENT}

    @post("/", summary="Issue a single-use enrollment token for a user")
    async def issue(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[EnrollmentTokenIn],
        services: ServicesDep,
    ) -> EnrollmentTokenOut:
        app = calling_app(request)
        # A key restricted to deploy-* must not enroll its own device for alice.
        await require_user(services.audit, app, data.user_id, "issue an enrollment token")
        token, expires = await services.enrollment.issue_token(data.user_id, app)
        return EnrollmentTokenOut(
            token=token,
            user_id=data.user_id,
            expires_at=iso(expires) or "",
            expires_at_ms=expires,
            server_url=services.settings.origin,
        )


class RegisterController(Controller):
    path = "/v1/device/register"
    tags = ["device"]

    @post("/", summary="Register a device key with an enrollment token and proof of possession")
    async def register(self, data: JSONBody[RegisterIn], services: ServicesDep) -> RegisterOut:
        enrollment = await services.enrollment.register(
            token=data.token,
            public_key=data.public_key,
            device_name=data.device_name,
            signature=data.signature,
        )
        credential, through = enrollment.credential, enrollment.through
        return RegisterOut(
            credential_id=credential.credential_id,
            user_id=credential.user_id,
            device_name=credential.name,
            origin=services.settings.origin,
            created_at_ms=credential.created_at_ms,
            app_name=through.name if through else None,
            app_display_name=through.display_name if through else None,
        )
