"""The application factory: ``create_app(settings)`` builds everything, reads nothing global."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Router, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send
from msgspec import Struct

from pushauth_server import __version__
from pushauth_server.auth import ApiKeyCheck
from pushauth_server.clock import now_ms
from pushauth_server.domain.audit import noise
from pushauth_server.domain.audit import origins as audit_origins
from pushauth_server.domain.audit.routes import AuditController
from pushauth_server.domain.challenges.device_routes import DeviceChallengeController
from pushauth_server.domain.challenges.routes import ChallengeController
from pushauth_server.domain.devices.routes import DevicesController, DeviceSelfController
from pushauth_server.domain.enrollment.routes import EnrollmentTokenController, RegisterController
from pushauth_server.domain.limits.routes import UserStateController
from pushauth_server.http_errors import EXCEPTION_HANDLERS
from pushauth_server.input_guard import guard_input
from pushauth_server.nonces import MemoryNonceStore, persist, restore
from pushauth_server.observability.metrics import Metrics
from pushauth_server.observability.metrics_route import metrics_route
from pushauth_server.observability.readiness import RedisProbe, ready_route
from pushauth_server.observability.request_log import RequestLog
from pushauth_server.openapi import PushAuthJsonRenderPlugin
from pushauth_server.protocol import PROTOCOL_VERSION
from pushauth_server.realtime import Notifier, backend_for
from pushauth_server.services import Services
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from pushauth_server.storage.audit_guard import AuditTriggersMissing

logger = logging.getLogger("pushauth.server")


class Health(Struct, kw_only=True):
    status: str  # "ok", or "degraded" while real-time delivery cannot reach Redis
    version: str
    protocol_version: int
    origin: str
    realtime: str = "ok"  # "ok" or "unreachable" (Redis mode): streams catch up once it is back


class MissingApiKey(ValueError):
    """The server was asked to start without a relying-party API key."""


async def sweep_once(services: Services) -> list[str]:
    """Expire what is due; returns the ids expired.

    It first reads when the next pending challenge expires: an idle server (nothing pending, or
    nothing due yet) opens no write transaction and takes no writer lock.
    """
    expired: list[str] = []
    due = await services.challenges.next_expiry()
    if due is not None and due <= now_ms():
        expired = [challenge.challenge_id for challenge in await services.challenges.expire_due()]
    await services.device_auth.nonces.prune()
    return expired


async def _sweep(services: Services) -> None:
    """:func:`sweep_once` every ``expiry_sweep_seconds``, forever."""
    interval = services.settings.expiry_sweep_seconds
    while True:
        try:
            await sweep_once(services)
        except Exception:  # a failed sweep must not stop the next one
            logger.exception("expiry sweep failed")
        await asyncio.sleep(interval)


async def _flush_failures(services: Services) -> None:
    """At shutdown: write the audit rows still held in memory (domain/audit/log.py)."""
    try:
        await services.audit.close()
    except Exception:
        logger.exception("could not write the last aggregated audit rows")


def create_app(settings: Settings, *, prepare_schema: bool = True) -> Litestar:
    """The app for ``settings``. ``prepare_schema=False``: the schema was prepared (created,
    checked) before, once for every worker, by ``pushauth serve --workers N``'s parent."""
    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise MissingApiKey("PUSHAUTH_API_KEY is not set: run `pushauth init` to create one.")
    api_key = settings.api_key.get_secret_value()
    # From here on only the key's hash is kept (in ApiKeyCheck); the app holds no copy of it.
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    settings = settings.model_copy(update={"api_key": None, "metrics_token": None})
    database = Database(settings.database_url, lock_timeout=settings.sqlite_lock_timeout_seconds)
    notifier = Notifier(backend_for(settings))
    metrics = Metrics()
    metrics.watch_pool(database.sync_engines)
    services = Services.build(settings, database, notifier, metrics=metrics)
    redis_probe = RedisProbe(settings.redis_url) if settings.channels_backend == "redis" else None
    api_key_check = ApiKeyCheck(api_key, services.audit)
    del api_key

    def require_api_key(app: ASGIApp) -> ASGIApp:
        # A middleware rather than a guard: Litestar copies the route handler for every guard
        # call, a measurable part of each relying-party request (docs/performance.md).
        async def check(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                await api_key_check(ASGIConnection(scope))
            await app(scope, receive, send)

        return check

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        fresh = False
        if prepare_schema:
            try:
                fresh = await database.create_schema()
            except AuditTriggersMissing as exc:  # refuse to start, and say why first, in one line
                logger.critical("%s", exc)
                raise
        await notifier.start()
        await audit_origins.register(database, settings.origin)
        nonces = services.device_auth.nonces
        if isinstance(nonces, MemoryNonceStore):
            await restore(database, nonces, fresh_database=fresh)
        sweeper = asyncio.create_task(_sweep(services))
        failures = asyncio.create_task(services.audit.run())
        try:
            yield
        finally:
            for task in (sweeper, failures):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _flush_failures(services)
            if isinstance(nonces, MemoryNonceStore):
                try:
                    await persist(database, nonces)
                except Exception:  # the next start then treats this stop as a crash
                    logger.exception("could not keep the request nonces across the restart")
            await nonces.close()
            if redis_probe is not None:
                await redis_probe.close()
            await notifier.stop()
            await database.dispose()
            metrics.close()

    @get("/health", tags=["server"], summary="Liveness, version and the origin devices must sign")
    async def health() -> Health:
        realtime_ok = services.notifier.healthy  # a flag: /health never waits on Redis
        return Health(
            status="ok" if realtime_ok else "degraded",
            version=__version__,
            protocol_version=PROTOCOL_VERSION,
            origin=settings.origin,
            realtime="ok" if realtime_ok else "unreachable",
        )

    relying_party = Router(
        path="/",
        middleware=[require_api_key],
        route_handlers=[
            ChallengeController,
            EnrollmentTokenController,
            DevicesController,
            UserStateController,
            AuditController,
        ],
    )
    device = Router(
        path="/",
        route_handlers=[RegisterController, DeviceChallengeController, DeviceSelfController],
    )

    route_handlers: list[Any] = [health, ready_route(services, redis_probe), relying_party, device]
    if metrics_token:
        route_handlers.append(metrics_route(metrics, metrics_token))
    del metrics_token

    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        middleware=[noise.middleware(services.audit.limiter)],
        dependencies={"services": Provide(lambda: services, sync_to_thread=False, use_cache=True)},
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=guard_input,
        request_max_body_size=settings.max_request_bytes,
        state=State({"services": services}),
        openapi_config=OpenAPIConfig(
            title="pushauth",
            version=__version__,
            description="Self-hosted push authentication. See docs/protocol.md.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), PushAuthJsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "ApiKey": SecurityScheme(
                        type="http", scheme="bearer", description="The relying party's API key."
                    ),
                    "DeviceProof": SecurityScheme(
                        type="apiKey",
                        name="X-PushAuth-Signature",
                        security_scheme_in="header",
                        description="Ed25519 request proof with X-PushAuth-Credential, "
                        "-Timestamp and -Nonce; see docs/protocol.md.",
                    ),
                }
            ),
        ),
        signature_namespace={"Services": Services},
    )
    # Outside routing, so that unknown routes and early refusals are logged and counted too.
    app.asgi_handler = RequestLog(app.asgi_handler, metrics)
    return app
