"""The services one app instance shares between its routes, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from pushauth_server.auth import DeviceAuthenticator
from pushauth_server.domain.challenges.service import ChallengeService
from pushauth_server.domain.devices.service import DeviceService
from pushauth_server.domain.enrollment.service import EnrollmentService
from pushauth_server.realtime import Notifier
from pushauth_server.settings import Settings
from pushauth_server.storage import Database


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    database: Database
    notifier: Notifier
    challenges: ChallengeService
    devices: DeviceService
    enrollment: EnrollmentService
    device_auth: DeviceAuthenticator

    @classmethod
    def build(cls, settings: Settings, database: Database, notifier: Notifier) -> Services:
        return cls(
            settings=settings,
            database=database,
            notifier=notifier,
            challenges=ChallengeService(database, settings, notifier),
            devices=DeviceService(database, notifier),
            enrollment=EnrollmentService(database, settings),
            device_auth=DeviceAuthenticator(database, settings),
        )
