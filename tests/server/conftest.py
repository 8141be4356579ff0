"""An in-process app per test (``create_app`` + Litestar's AsyncTestClient) and the steps that
tests share: enroll a device, create a challenge, answer it, and snapshot the database."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from pushauth_server.app import create_app
from pushauth_server.client import DeviceIdentity, PendingChallenge, enrollment_proof
from pushauth_server.nonces import MemoryNonceStore
from pushauth_server.protocol import generate_private_key
from pushauth_server.services import Services
from pushauth_server.settings import Settings
from pushauth_server.storage import Database, tables
from tests.support.settings import TestSettings

API_KEY = "pak_unit-" + "k" * 40
_users = itertools.count()


def fresh_user(prefix: str = "user") -> str:
    """A user id no other scenario uses (limits are per user: one pending challenge, etc.)."""
    return f"{prefix}{next(_users)}"


@dataclass
class Device:
    user_id: str
    identity: DeviceIdentity

    @property
    def credential_id(self) -> str:
        return self.identity.credential_id


@dataclass
class Harness:
    """The app under test, its client, and the test's own handle on the same database.

    The app runs on the test client's portal thread (its own event loop), so tests never use the
    app's engines; ``db`` is a second :class:`Database` on the same file, on the test's loop.
    """

    app: Litestar
    client: AsyncTestClient[Litestar]
    settings: Settings
    db: Database

    @property
    def services(self) -> Services:
        services: Services = self.app.state["services"]
        return services

    @property
    def rp_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    async def rp(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.rp_headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def issue_token(self, user_id: str) -> str:
        response = await self.rp("POST", "/v1/enrollment-tokens", json={"user_id": user_id})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    async def enroll(self, user_id: str | None = None, name: str = "phone") -> Device:
        user_id = user_id or fresh_user()
        token = await self.issue_token(user_id)
        key = generate_private_key()
        body = enrollment_proof(key, origin=self.settings.origin, token=token, device_name=name)
        response = await self.client.post("/v1/device/register", json=body)
        assert response.status_code == 201, response.text
        identity = DeviceIdentity(
            origin=self.settings.origin,
            credential_id=response.json()["credential_id"],
            private_key=key,
        )
        return Device(user_id=user_id, identity=identity)

    async def create(self, user_id: str, **body: Any) -> dict[str, Any]:
        response = await self.rp("POST", "/v1/challenges", json={"user_id": user_id, **body})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def pending(self, device: Device) -> list[PendingChallenge]:
        path = "/v1/device/challenges"
        response = await self.client.get(path, headers=device.identity.proof_headers("GET", path))
        assert response.status_code == 200, response.text
        return [PendingChallenge.from_json(item) for item in response.json()]

    async def pending_one(self, device: Device, challenge_id: str) -> PendingChallenge:
        [found] = [c for c in await self.pending(device) if c.challenge_id == challenge_id]
        return found

    async def post_response(self, challenge_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/v1/device/challenges/{challenge_id}/response", json=body)

    async def challenge_state(self, challenge_id: str) -> dict[str, Any]:
        response = await self.rp("GET", f"/v1/challenges/{challenge_id}")
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        return state

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the state tables, to compare before and after a refused request."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        async with self.db.read() as connection:
            for table in (tables.challenges, tables.credentials, tables.enrollment_tokens):
                rows = await connection.execute(select(table).order_by(*table.primary_key))
                out[table.name] = [tuple(row) for row in rows]
        return out

    async def nonce_count(self) -> int:
        """Request nonces the app remembers (its in-memory nonce store)."""
        nonces = self.services.device_auth.nonces
        assert isinstance(nonces, MemoryNonceStore)
        return len(nonces)


def build_app(settings: Settings) -> Litestar:
    """``create_app``; with warnings as errors, a deprecated route signature fails here."""
    return create_app(settings)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}",
        "public_url": "https://auth.example.test",
        "expiry_sweep_seconds": 60,  # the first sweep runs at start-up, then none in a test
    }
    values.update(overrides)
    return TestSettings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a module (or with indirect parametrization) to change the app's settings."""
    return {}


@contextlib.asynccontextmanager
async def running_harness(tmp_path: Path, **overrides: Any) -> AsyncIterator[Harness]:
    """A started app on a fresh SQLite file in ``tmp_path``, with no PUSHAUTH_* or .env input."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # no developer .env is read
        for name in list(os.environ):
            if name.startswith("PUSHAUTH_"):
                patch.delenv(name)
        settings = make_settings(tmp_path, **overrides)
        app = build_app(settings)
        db = Database(settings.database_url)
        try:
            async with AsyncTestClient(app=app) as client:
                yield Harness(app=app, client=client, settings=settings, db=db)
        finally:
            await db.dispose()


@pytest.fixture
async def harness(tmp_path: Path, settings_overrides: dict[str, Any]) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path, **settings_overrides) as started:
        yield started


@pytest.fixture
async def device(harness: Harness) -> Device:
    return await harness.enroll()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A refusal: the status, our error shape with a machine-readable code and a clear message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert len(error["message"]) >= 10, error
    assert isinstance(error.get("details", {}), dict)
    assert "Traceback" not in response.text
    return error
