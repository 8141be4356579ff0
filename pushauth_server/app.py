"""The application factory: ``create_app(settings)`` builds everything, reads nothing global."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
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
from pushauth_server.domain.apps.routes import AppsController
from pushauth_server.domain.apps.scopes import check_declared
from pushauth_server.domain.audit import noise
from pushauth_server.domain.audit import origins as audit_origins
from pushauth_server.domain.audit.routes import AuditController
from pushauth_server.domain.challenges.device_routes import DeviceChallengeController
from pushauth_server.domain.challenges.routes import ChallengeController
from pushauth_server.domain.devices.routes import DevicesController, DeviceSelfController
from pushauth_server.domain.enrollment.routes import EnrollmentTokenController, RegisterController
from pushauth_server.domain.limits.routes import UserStateController
from pushauth_server.domain.webhooks.routes import WebhookController
from pushauth_server.domain.webhooks.worker import WebhookWorker, queue_age_hook
from pushauth_server.http_errors import EXCEPTION_HANDLERS
from pushauth_server.input_guard import guard_input
from pushauth_server.nonces import MemoryNonceStore, persist, restore
from pushauth_server.observability.metrics import Metrics
from pushauth_server.observability.metrics_route import metrics_route
from pushauth_server.observability.readiness import RedisProbe, ready_route
from pushauth_server.observability.request_log import RequestLog
from pushauth_server.openapi import PushAuthJsonRenderPlugin
from pushauth_server.options_allow import point_options_at_their_routes
from pushauth_server.protocol import PROTOCOL_VERSION
from pushauth_server.realtime import Notifier, backend_for
from pushauth_server.services import Services
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from pushauth_server.storage.audit_guard import AuditTriggersMissing
from pushauth_server.storage.migrate import MigrationError, describe_upgrade

logger = logging.getLogger("pushauth.server")


class Health(Struct, kw_only=True):
    status: str  # "ok", or "degraded" while real-time delivery cannot reach Redis
    version: str
    protocol_version: int
    origin: str
    realtime: str = "ok"  # "ok" or "unreachable" (Redis mode): streams catch up once it is back


BACKGROUND = "pushauth background:"
"""The prefix of the names of the server's background tasks."""


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
    """At shutdown: write the audit rows still held in memory (domain/audit/log.py), and when
    applications were last used (domain/apps/service.py)."""
    try:
        await services.audit.close()
    except Exception:
        logger.exception("could not write the last aggregated audit rows")
    try:
        await services.apps.flush_last_used()
    except Exception:
        logger.exception("could not record when applications were last used")


RELYING_PARTY_HANDLERS: tuple[Any, ...] = (
    ChallengeController,
    EnrollmentTokenController,
    DevicesController,
    UserStateController,
    AuditController,
    AppsController,
    WebhookController,
)
"""Every relying-party controller: each declares the scope its routes need (domain/apps)."""


def create_app(
    settings: Settings, *, relying_party_handlers: Sequence[Any] = RELYING_PARTY_HANDLERS
) -> Litestar:
    """The app. ``relying_party_handlers``: the routes behind the API-key check; building fails
    (``RouteWithoutScope``) if one of them declares no scope."""
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
    metrics.on_scrape(queue_age_hook(database, metrics))  # read when scraped, if /metrics is on
    redis_probe = RedisProbe(settings.redis_url) if settings.channels_backend == "redis" else None
    api_key_check = ApiKeyCheck(api_key, services.audit, services.apps)
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
        try:
            # `pushauth serve` has upgraded already (once, before any worker): this finds the
            # schema current, unless the app is run some other way (tests, an ASGI server).
            schema = await database.upgrade_schema(check_triggers=True)
        except (AuditTriggersMissing, MigrationError) as exc:  # refuse, saying why in one line
            logger.critical("%s", exc)
            raise
        if schema.applied:
            (logger.info if schema.created else logger.warning)("%s", describe_upgrade(schema))
        fresh = schema.created
        await notifier.start()
        await audit_origins.register(database, settings.origin)
        nonces = services.device_auth.nonces
        if isinstance(nonces, MemoryNonceStore):
            await restore(database, nonces, fresh_database=fresh)
        # Named: what they cost is told apart from a request's (tests/server/test_budget.py).
        sweeper = asyncio.create_task(_sweep(services), name=f"{BACKGROUND} expiry sweep")
        failures = asyncio.create_task(services.audit.run(), name=f"{BACKGROUND} audit writer")
        last_used = asyncio.create_task(services.apps.run(), name=f"{BACKGROUND} apps last used")
        tasks = [sweeper, failures, last_used]
        worker: WebhookWorker | None = None
        sealer = services.webhooks.sealer
        if sealer is not None:  # without PUSHAUTH_SECRET no endpoint can exist: no worker
            worker = WebhookWorker(
                database=database,
                settings=settings,
                outbox=services.outbox,
                sealer=sealer,
                audit=services.audit,
                metrics=metrics,
            )
            tasks.append(asyncio.create_task(worker.run(), name=f"{BACKGROUND} webhook worker"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if worker is not None:
                await worker.close()  # its leases back: another process delivers at once
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
        route_handlers=list(relying_party_handlers),
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
    check_declared(app, require_api_key)  # a relying-party route without a scope: refuse to build
    point_options_at_their_routes(app)
    # Outside routing, so that unknown routes and early refusals are logged and counted too.
    app.asgi_handler = RequestLog(app.asgi_handler, metrics)
    return app
