"""The services one app instance shares between its routes, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from pushauth_server.auth import DeviceAuthenticator
from pushauth_server.domain.apps.service import AppService
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.challenges.service import ChallengeService
from pushauth_server.domain.devices.service import DeviceService
from pushauth_server.domain.enrollment.service import EnrollmentService
from pushauth_server.domain.limits.service import LimitService
from pushauth_server.domain.webhooks.outbox import Outbox
from pushauth_server.domain.webhooks.service import WebhookService
from pushauth_server.nonces import NonceStore, nonce_store
from pushauth_server.observability.metrics import Metrics
from pushauth_server.realtime import Notifier
from pushauth_server.settings import Settings
from pushauth_server.storage import Database


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    database: Database
    notifier: Notifier
    audit: AuditLog
    challenges: ChallengeService
    devices: DeviceService
    enrollment: EnrollmentService
    device_auth: DeviceAuthenticator
    limits: LimitService
    outbox: Outbox
    webhooks: WebhookService
    apps: AppService
    metrics: Metrics

    @classmethod
    def build(
        cls,
        settings: Settings,
        database: Database,
        notifier: Notifier,
        nonces: NonceStore | None = None,
        metrics: Metrics | None = None,
    ) -> Services:
        metrics = metrics or Metrics()
        audit = AuditLog(
            database,
            notifier,
            failed_requests_per_minute=settings.failed_requests_per_minute,
            failure_rows_per_minute=settings.failure_rows_per_minute,
        )
        outbox = Outbox(
            origin=settings.origin, retry_for_seconds=settings.webhook_retry_for_seconds
        )
        if nonces is None:
            nonces = nonce_store(settings.channels_backend, settings.redis_url, database)
        return cls(
            settings=settings,
            database=database,
            notifier=notifier,
            audit=audit,
            challenges=ChallengeService(
                database, settings, notifier, audit, outbox, metrics=metrics
            ),
            devices=DeviceService(database, notifier, audit, outbox),
            enrollment=EnrollmentService(database, settings, audit, outbox),
            device_auth=DeviceAuthenticator(database, settings, audit, nonces),
            limits=LimitService(database, audit),
            outbox=outbox,
            webhooks=WebhookService(database, settings, audit, outbox),
            apps=AppService(database, audit),
            metrics=metrics,
        )


ServicesDep = NamedDependency[Services]
"""How a route handler asks for the services: ``services: ServicesDep``."""
