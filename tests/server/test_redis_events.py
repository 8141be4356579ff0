"""Redis mode (issue 10, item 6), against a private ``redis-server`` that tests stop and restart:
deployments sharing a Redis are isolated, forged events are dropped, the subscriber heals after an
outage and open streams catch up, ``/health`` says degraded meanwhile, and a committed answer is
the HTTP answer even while nothing can be published."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from httpx_sse import aconnect_sse
from redis.asyncio import Redis

from pushauth_server.app import create_app
from pushauth_server.client import PendingChallenge
from pushauth_server.realtime import EventReader, MissingSecret, Notifier, backend_for
from pushauth_server.redis_events import (
    MAX_AGE_MS,
    RECONNECTED,
    AuthenticatedRedisBackend,
    derive_key,
    seal,
    unseal,
)
from pushauth_server.services import Services
from tests.server.conftest import make_settings
from tests.server.test_budget import Api, _Server
from tests.support.processes import free_port
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - fixture

SECRET_A = "a-deployment-secret-" + "a" * 20
SECRET_B = "b-deployment-secret-" + "b" * 20


def test_a_sealed_event_opens_only_with_its_key_channel_and_time() -> None:
    key = derive_key(SECRET_A, "redis events")
    sealed = seal(key, "user:amy", b'{"type":"revoked"}', at_ms=1_000_000)
    assert unseal(key, "user:amy", sealed, now_ms=1_000_000) == b'{"type":"revoked"}'
    assert (
        unseal(derive_key(SECRET_B, "redis events"), "user:amy", sealed, now_ms=1_000_000) is None
    )
    assert unseal(key, "user:bob", sealed, now_ms=1_000_000) is None  # moved to another channel
    assert (
        unseal(key, "user:amy", sealed.replace(b"revoked", b"resolved"), now_ms=1_000_000) is None
    )
    assert unseal(key, "user:amy", sealed, now_ms=1_000_000 + MAX_AGE_MS + 1) is None
    assert unseal(key, "user:amy", b'{"type":"revoked"}', now_ms=1_000_000) is None


def test_redis_mode_needs_the_secret(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="PUSHAUTH_SECRET"):
        backend_for(make_settings(tmp_path, channels_backend="redis"))


@asynccontextmanager
async def started(
    url: str, secret: str
) -> AsyncIterator[tuple[AuthenticatedRedisBackend, Notifier]]:
    backend = AuthenticatedRedisBackend(url=url, secret=secret)
    notifier = Notifier(backend)
    await notifier.start()
    try:
        yield backend, notifier
    finally:
        await notifier.stop()


async def test_deployments_sharing_a_redis_never_see_each_other(
    redis_server: RedisServer,
) -> None:
    async with (
        started(redis_server.url, SECRET_A) as (_, a),
        started(redis_server.url, SECRET_B) as (_, b),
        b.subscribe("user:amy") as subscriber,
    ):
        reader = EventReader(subscriber)
        await a.publish_bytes(b'{"from":"a"}', "user:amy")
        await b.publish_bytes(b'{"from":"b"}', "user:amy")
        # Redis delivers in publish order: had A's event reached B, it would come first.
        assert await reader.next(30) == b'{"from":"b"}'


async def test_forged_events_are_dropped(redis_server: RedisServer) -> None:
    async with started(redis_server.url, SECRET_A) as (backend, notifier):
        channel = backend.prefix + "user:amy"
        attacker = Redis.from_url(redis_server.url)
        async with notifier.subscribe("user:amy") as subscriber:
            reader = EventReader(subscriber)
            wrong = seal(derive_key(SECRET_B, "redis events"), "user:amy", b'{"type":"revoked"}')
            for forged in (b'{"type":"revoked","credential_id":"cr_x"}', wrong):
                await attacker.publish(channel, forged)
            await notifier.publish_bytes(b'{"type":"genuine"}', "user:amy")
            assert await reader.next(30) == b'{"type":"genuine"}'
        await attacker.aclose()


async def _until(backend: AuthenticatedRedisBackend, *, healthy: bool) -> None:
    async with asyncio.timeout(60), backend.state_changed:
        await backend.state_changed.wait_for(lambda: backend.healthy is healthy)


async def test_the_subscriber_heals_after_an_outage(redis_server: RedisServer) -> None:
    async with (
        started(redis_server.url, SECRET_A) as (backend, notifier),
        notifier.subscribe("challenge:ch_1") as subscriber,
    ):
        reader = EventReader(subscriber)
        await notifier.publish_bytes(b'{"n":1}', "challenge:ch_1")
        assert await reader.next(30) == b'{"n":1}'
        redis_server.stop()
        await _until(backend, healthy=False)
        assert notifier.healthy is False
        await notifier.publish_bytes(b'{"lost":true}', "challenge:ch_1")  # logged, not raised
        redis_server.start()
        assert await reader.next(60) == RECONNECTED  # every open stream is told to re-read
        await _until(backend, healthy=True)
        await notifier.publish_bytes(b'{"n":2}', "challenge:ch_1")
        assert await reader.next(30) == b'{"n":2}'


@asynccontextmanager
async def served_with_redis(
    tmp_path: Path, redis_url: str
) -> AsyncIterator[tuple[Services, Api, AuthenticatedRedisBackend]]:
    port = free_port()
    settings = make_settings(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'redis.db'}",
        public_url=None,
        host="127.0.0.1",
        port=port,
        channels_backend="redis",
        redis_url=redis_url,
        secret=SECRET_A,
    )
    app = create_app(settings)
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await server.listening.wait()
        services: Services = app.state["services"]
        backend = channels_backend_of(services)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield services, Api(http=http, origin=settings.origin), backend
    finally:
        server.should_exit = True
        await serving


def channels_backend_of(services: Services) -> AuthenticatedRedisBackend:
    backend = services.notifier._backend  # the test looks inside
    assert isinstance(backend, AuthenticatedRedisBackend)
    return backend


async def test_an_answer_during_an_outage_is_committed_and_the_waiter_catches_up(
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    async with served_with_redis(tmp_path, redis_server.url) as (_, api, backend):
        device = await api.enroll("redis-user")
        created = await api.http.post(
            "/v1/challenges", json={"user_id": "redis-user"}, headers=api.rp
        )
        assert created.status_code == 201, created.text
        challenge_id = created.json()["challenge_id"]
        path = "/v1/device/challenges"
        listed = await api.http.get(path, headers=device.proof_headers("GET", path))
        if listed.status_code == 401 and listed.json()["error"]["code"] == "stale_proof":
            # A fresh Redis starts the nonce memory at its first use: sign again, as told.
            listed = await api.http.get(path, headers=device.proof_headers("GET", path))
        assert listed.status_code == 200, listed.text
        [pending] = [PendingChallenge.from_json(item) for item in listed.json()]
        body = device.response_body(
            pending, decision="approve", verification_code=created.json()["verification_code"]
        )
        events_path = f"/v1/challenges/{challenge_id}/events"
        async with aconnect_sse(api.http, "GET", events_path, headers=api.rp) as source:
            stream = source.aiter_sse()
            assert json.loads((await anext(stream)).data)["status"] == "pending"  # subscribed
            redis_server.stop()
            await _until(backend, healthy=False)
            health = (await api.http.get("/health")).json()
            assert health["status"] == "degraded"
            assert health["realtime"] == "unreachable"
            # Nothing can be published, and still the committed answer is the HTTP answer.
            answered = await api.http.post(
                f"/v1/device/challenges/{challenge_id}/response", json=body
            )
            assert answered.status_code == 200, answered.text
            assert answered.json()["status"] == "approved"
            again = await api.http.post(
                "/v1/challenges",
                json={"user_id": "redis-user", "context": {"note": "during the outage"}},
                headers=api.rp,
            )
            assert again.status_code == 201, again.text
            redis_server.start()
            final = json.loads((await anext(stream)).data)  # read again after the reconnect
            assert final["status"] == "approved"
        assert (await api.http.get("/health")).json()["status"] == "ok"


async def test_a_device_stream_catches_up_after_an_outage(
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    async with served_with_redis(tmp_path, redis_server.url) as (_, api, backend):
        device = await api.enroll("stream-user")
        listing = "/v1/device/challenges"
        # A fresh Redis starts the nonce memory at its first use: this first proof may be
        # called stale; the next ones are not.
        await api.http.get(listing, headers=device.proof_headers("GET", listing))
        path = "/v1/device/stream"
        headers = device.proof_headers("GET", path)
        async with aconnect_sse(api.http, "GET", path, headers=headers) as source:
            stream = source.aiter_sse()
            assert (await anext(stream)).event == "ready"  # subscribed, nothing pending
            redis_server.stop()
            await _until(backend, healthy=False)
            created = await api.http.post(
                "/v1/challenges", json={"user_id": "stream-user"}, headers=api.rp
            )
            assert created.status_code == 201, created.text  # committed; its event was lost
            redis_server.start()
            caught_up = await anext(stream)
            assert caught_up.event == "challenge"
            assert json.loads(caught_up.data)["challenge_id"] == created.json()["challenge_id"]


async def test_an_audit_stream_catches_up_after_an_outage(
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    async with served_with_redis(tmp_path, redis_server.url) as (_, api, backend):
        path = "/v1/audit/stream?after_id=0"
        async with aconnect_sse(api.http, "GET", path, headers=api.rp) as source:
            stream = source.aiter_sse()
            while (await anext(stream)).event != "ready":  # the backlog, then ready
                pass
            redis_server.stop()
            await _until(backend, healthy=False)
            issued = await api.http.post(
                "/v1/enrollment-tokens", json={"user_id": "audit-user"}, headers=api.rp
            )
            assert issued.status_code == 201, issued.text  # its audit row's event was lost
            redis_server.start()
            caught_up = json.loads((await anext(stream)).data)
            assert caught_up["event"] == "enrollment.token_issued"
            assert caught_up["user_id"] == "audit-user"
