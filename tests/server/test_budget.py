"""The work one complete push flow costs the database, counted, on SQLite and PostgreSQL.

A flow, as a relying party and a device make it over HTTP: the relying party creates a challenge
and waits on its event stream; the device lists what is pending with a signed request proof and
answers with a signed approval; the relying party's stream delivers the outcome. Every SQL
statement the app runs (SQLAlchemy ``before_cursor_execute``) and every connection it checks out
of a pool (``checkout``) during the flow is recorded, and each statement is named: a new
statement on the hot path is a visible decision, made here, not an accident. Transaction control
(``BEGIN``/``COMMIT``) is not counted on either database.

Budget (issue 8): at most 8 statements and 4 checkouts for the whole flow, with the bootstrap
key. Two deliberate additions since:

* issue 14: the answer's transaction writes its webhook deliveries to the outbox (one
  ``INSERT INTO webhook_deliveries ... SELECT ... FROM webhook_endpoints``, 0..n rows) so that a
  committed outcome is never announced late or lost: 9 statements, still 4 checkouts. The
  delivery itself is a background worker's work, not the flow's (the worker is off here: no
  PUSHAUTH_SECRET, so its polls cannot land in the count);
* issue 11: with an application key each relying-party request adds one named indexed read,
  "relying party: look up the API key's application" (the key's hash joined to its application),
  so that a revoked or rotated key stops at once on every process: 2 in this flow (create,
  stream), hence 11 statements and 6 checkouts.

What the server's background tasks run meanwhile (the expiry sweep, the audit writer with its
folded reads, the last-used flush) is not the flow's: it is told apart by the task's name.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from httpx_sse import aconnect_sse
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from pushauth_server.app import BACKGROUND, create_app
from pushauth_server.client import DeviceIdentity, PendingChallenge, enrollment_proof
from pushauth_server.protocol import generate_private_key
from pushauth_server.services import Services
from tests.conftest import POSTGRES_URL
from tests.server.conftest import API_KEY, fresh_user, make_settings

MAX_STATEMENTS = 9
MAX_CHECKOUTS = 4
APP_KEY_READS = 2  # one key lookup per relying-party request: create, and the event stream

# What each statement on the hot path is, recognised by its SQL.
_NAMES = (
    (r"pg_advisory_xact_lock", "create: lock the user (PostgreSQL)"),
    (r"AS base", "create: read devices, pending, window and limit row"),
    (r"^WITH new_challenge", "create: insert challenge and its audit row (PostgreSQL)"),
    (r"^INSERT INTO challenges", "create: insert challenge"),
    (r"^INSERT INTO audit_events", "insert audit row"),
    (r"AS device_name", "relying party: read challenge with device name"),
    (r"JOIN user_limits", "answer: read credential, challenge and limit row"),
    (r"^UPDATE challenges .*EXISTS", "answer: compare-and-set"),
    (r"cr_credential_id.*JOIN challenges", "device: read credential and pending"),
    (r"^INSERT INTO webhook_deliveries .*SELECT", "answer: queue webhook deliveries (outbox)"),
    (r"FROM api_keys JOIN applications", "relying party: look up the API key's application"),
)

SQLITE_FLOW = [
    "create: read devices, pending, window and limit row",
    "create: insert challenge",
    "insert audit row",  # challenge.created
    "relying party: read challenge with device name",
    "device: read credential and pending",
    "answer: read credential, challenge and limit row",
    "answer: compare-and-set",
    "answer: queue webhook deliveries (outbox)",  # issue 14: in the answer's transaction
    "insert audit row",  # challenge.approved
]
POSTGRES_FLOW = [
    "create: lock the user (PostgreSQL)",
    "create: read devices, pending, window and limit row",
    "create: insert challenge and its audit row (PostgreSQL)",
    "relying party: read challenge with device name",
    "device: read credential and pending",
    "answer: read credential, challenge and limit row",
    "answer: compare-and-set",
    "answer: queue webhook deliveries (outbox)",  # issue 14: in the answer's transaction
    "insert audit row",  # challenge.approved
]


def name_of(statement: str) -> str:
    flat = " ".join(statement.split())
    for pattern, name in _NAMES:
        if re.search(pattern, flat, re.DOTALL):
            return name
    return f"unexpected: {flat[:120]}"


@dataclass
class Counter:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0
    on: bool = False


def _in_background() -> bool:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return False
    return task is not None and task.get_name().startswith(BACKGROUND)


@contextmanager
def counting(services: Services) -> Iterator[Counter]:
    counter = Counter()

    def before_cursor_execute(*args: Any) -> None:
        if counter.on and not _in_background():
            counter.statements.append(name_of(args[2]))

    def checkout(*_: Any) -> None:
        if counter.on and not _in_background():
            counter.checkouts += 1

    engines = services.database.sync_engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before_cursor_execute)
        event.listen(engine, "checkout", checkout)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before_cursor_execute)
            event.remove(engine, "checkout", checkout)


class _Server(uvicorn.Server):
    """uvicorn, with an event set once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@asynccontextmanager
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Services, Api]]:
    """The real app under uvicorn on a free 127.0.0.1 port, in this test's event loop, so the
    counters see its engines; with a client for each side."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(
        tmp_path, database_url=database_url, public_url=None, host="127.0.0.1", port=port
    )
    app = create_app(settings)
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await server.listening.wait()
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield app.state["services"], Api(http=http, origin=settings.origin)
    finally:
        server.should_exit = True
        await serving


@dataclass
class Api:
    http: httpx.AsyncClient
    origin: str
    key: str = API_KEY  # the relying party's key in the flow

    @property
    def rp(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def use_app_key(self) -> None:
        """From now on the flow's relying party uses a new ``challenges`` application key."""
        created = await self.http.post(
            "/v1/apps",
            json={"name": "budget-web", "scopes": ["challenges"]},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert created.status_code == 201, created.text
        self.key = created.json()["key"]

    async def enroll(self, user_id: str) -> DeviceIdentity:
        token = await self.http.post(
            "/v1/enrollment-tokens",
            json={"user_id": user_id},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        key = generate_private_key()
        body = enrollment_proof(
            key, origin=self.origin, token=token.json()["token"], device_name="phone"
        )
        registered = await self.http.post("/v1/device/register", json=body)
        assert registered.status_code == 201, registered.text
        credential_id = registered.json()["credential_id"]
        return DeviceIdentity(origin=self.origin, credential_id=credential_id, private_key=key)


async def one_flow(api: Api, counter: Counter) -> dict[str, Any]:
    user_id = fresh_user("budget")
    device = await api.enroll(user_id)
    counter.on = True
    response = await api.http.post(
        "/v1/challenges", json={"user_id": user_id, "context": {"note": "budget"}}, headers=api.rp
    )
    assert response.status_code == 201, response.text
    created = response.json()
    path = f"/v1/challenges/{created['challenge_id']}/events"
    async with aconnect_sse(api.http, "GET", path, headers=api.rp) as source:
        events = source.aiter_sse()
        first = json.loads((await anext(events)).data)
        assert first["status"] == "pending"
        pending_path = "/v1/device/challenges"
        listed = await api.http.get(pending_path, headers=device.proof_headers("GET", pending_path))
        assert listed.status_code == 200, listed.text
        [pending] = [PendingChallenge.from_json(item) for item in listed.json()]
        body = device.response_body(
            pending, decision="approve", verification_code=created["verification_code"]
        )
        answer = await api.http.post(
            f"/v1/device/challenges/{created['challenge_id']}/response", json=body
        )
        assert answer.status_code == 200, answer.text
        final: dict[str, Any] = json.loads((await anext(events)).data)
    counter.on = False
    return final


KEY_LOOKUP = "relying party: look up the API key's application"


def with_app_key(flow: list[str]) -> list[str]:
    """The flow with an application key: a key lookup before each relying-party request."""
    create = flow.index("create: read devices, pending, window and limit row")
    lock = "create: lock the user (PostgreSQL)"
    first = flow.index(lock) if lock in flow else create
    stream = flow.index("relying party: read challenge with device name")
    return [*flow[:first], KEY_LOOKUP, *flow[first:stream], KEY_LOOKUP, *flow[stream:]]


async def _assert_budget(
    tmp_path: Path, database_url: str, expected: list[str], *, app_key: bool = False
) -> None:
    async with served(tmp_path, database_url) as (services, api):
        if app_key:
            await api.use_app_key()
        with counting(services) as counter:
            final = await one_flow(api, counter)
    assert final["status"] == "approved"
    assert final["device_name"] == "phone"
    extra = APP_KEY_READS if app_key else 0
    assert counter.statements == (with_app_key(expected) if app_key else expected)
    assert len(counter.statements) <= MAX_STATEMENTS + extra
    assert counter.checkouts <= MAX_CHECKOUTS + extra, counter.checkouts


@pytest.mark.parametrize("app_key", [False, True], ids=["bootstrap key", "application key"])
async def test_one_flow_on_sqlite(tmp_path: Path, clean_env: None, app_key: bool) -> None:
    await _assert_budget(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}", SQLITE_FLOW, app_key=app_key
    )


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    name = "pushauth_budget_" + secrets.token_hex(6)
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        await admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer .env or PUSHAUTH_* variable reaches the app's settings."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PUSHAUTH_"):
            monkeypatch.delenv(name)


@pytest.mark.postgres
@pytest.mark.parametrize("app_key", [False, True], ids=["bootstrap key", "application key"])
async def test_one_flow_on_postgres(
    tmp_path: Path, postgres_url: str, clean_env: None, app_key: bool
) -> None:
    await _assert_budget(tmp_path, postgres_url, POSTGRES_FLOW, app_key=app_key)


def test_an_unknown_statement_is_named_as_such() -> None:
    assert name_of("DELETE FROM request_nonces").startswith("unexpected: DELETE")
    assert name_of("UPDATE challenges SET status=? WHERE EXISTS (SELECT 1)") == (
        "answer: compare-and-set"
    )
