"""Webhook routes (admin scope, and no user restriction): endpoints, secrets, deliveries.

An admin application restricted to some users may not manage webhooks, as it may not manage
applications: an endpoint added for another application receives that application's events for
every user it covers (and a rotated secret is returned to the caller), which would let it out of
its restriction.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, Parameter

from pushauth_server.clock import iso
from pushauth_server.domain.apps.guard import unrestricted_admin
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.webhooks.schemas import (
    DeliveryOut,
    SecretRotatedOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    delivery_out,
    webhook_out,
)
from pushauth_server.services import ServicesDep

EndpointId = Annotated[
    str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="we_...")
]
DeliveryId = Annotated[
    str, Parameter(max_length=96, pattern=r"^[A-Za-z0-9_.-]+$", description="msg_...")
]


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ADMIN}
    # An endpoint receives its app's events for every user that app may act for: only an admin
    # without a user restriction manages them (as with applications).
    guards = [unrestricted_admin]

    @post("/", summary="Register an application's webhook endpoint (its secret is shown once)")
    async def add(self, data: JSONBody[WebhookIn], services: ServicesDep) -> WebhookCreatedOut:
        row, secret = await services.webhooks.add(data)
        out = webhook_out(row)
        return WebhookCreatedOut(
            secret=secret, **{f: getattr(out, f) for f in out.__struct_fields__}
        )

    @get("/", summary="List webhook endpoints")
    async def list_endpoints(
        self,
        services: ServicesDep,
        app: Annotated[str | None, Parameter(min_length=1, max_length=64, required=False)] = None,
    ) -> list[WebhookOut]:
        return [webhook_out(row) for row in await services.webhooks.endpoints(app)]

    @delete(
        "/{endpoint_id:str}", status_code=200, summary="Remove an endpoint (pending: cancelled)"
    )
    async def remove(self, endpoint_id: EndpointId, services: ServicesDep) -> WebhookOut:
        return webhook_out(await services.webhooks.remove(endpoint_id))

    @post("/{endpoint_id:str}/test", status_code=202, summary="Queue a webhook.test event")
    async def test(self, endpoint_id: EndpointId, services: ServicesDep) -> DeliveryOut:
        return delivery_out(await services.webhooks.test(endpoint_id))

    @post("/{endpoint_id:str}/rotate-secret", status_code=200, summary="Replace the secret")
    async def rotate_secret(
        self, endpoint_id: EndpointId, services: ServicesDep
    ) -> SecretRotatedOut:
        secret, until = await services.webhooks.rotate_secret(endpoint_id)
        return SecretRotatedOut(
            endpoint_id=endpoint_id, secret=secret, previous_secret_until=iso(until)
        )

    @get("/deliveries", summary="Recent deliveries, newest first")
    async def deliveries(
        self,
        services: ServicesDep,
        status: Annotated[
            Literal["pending", "delivered", "failed", "cancelled"] | None,
            Parameter(required=False),
        ] = None,
        endpoint_id: Annotated[
            str | None, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_-]+$", required=False)
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> list[DeliveryOut]:
        rows = await services.webhooks.deliveries(
            status=status, endpoint_id=endpoint_id, limit=limit
        )
        return [delivery_out(row) for row in rows]

    @post("/deliveries/{delivery_id:str}/retry", status_code=200, summary="Send a failed one again")
    async def retry(self, delivery_id: DeliveryId, services: ServicesDep) -> DeliveryOut:
        return delivery_out(await services.webhooks.retry(delivery_id))
