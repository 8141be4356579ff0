"""Relying-party routes for challenges (Bearer API key)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.response import Stream

from pushauth_server import sse
from pushauth_server.domain.apps.guard import require_user
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.live import KeyStillLive
from pushauth_server.domain.apps.models import Scope
from pushauth_server.domain.challenges.schemas import ChallengeOut, CreateChallengeIn, challenge_out
from pushauth_server.domain.challenges.waiting import watch
from pushauth_server.services import ServicesDep

ChallengeId = Annotated[
    str,
    Parameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The challenge id (ch_...)."),
]

_decode_view = msgspec.json.Decoder(ChallengeOut).decode


class ChallengeController(Controller):
    path = "/v1/challenges"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.CHALLENGES}

    @post("/", summary="Create a challenge and push it to the user's devices")
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CreateChallengeIn],
        services: ServicesDep,
    ) -> ChallengeOut:
        app = calling_app(request)
        await require_user(services.audit, app, data.user_id, "create a challenge")
        challenge, devices = await services.challenges.create(data, app)
        return challenge_out(challenge, devices=devices)

    @get("/{challenge_id:str}", summary="Read a challenge")
    async def read(
        self, request: Request[Any, Any, Any], challenge_id: ChallengeId, services: ServicesDep
    ) -> ChallengeOut:
        return await services.challenges.view(challenge_id, calling_app(request))

    @get("/{challenge_id:str}/wait", summary="Long-poll until the challenge resolves")
    async def wait(
        self,
        request: Request[Any, Any, Any],
        challenge_id: ChallengeId,
        services: ServicesDep,
        timeout_seconds: Annotated[float, Parameter(ge=0, le=60)] = 25.0,
    ) -> ChallengeOut:
        """Returns as soon as the challenge is resolved, or after ``timeout_seconds`` pending."""
        last: bytes | None = None
        with services.metrics.waiter("wait"):
            async for state in watch(
                challenges=services.challenges,
                notifier=services.notifier,
                challenge_id=challenge_id,
                timeout=timeout_seconds,
                keepalive=timeout_seconds or 0.001,
                app=calling_app(request),
            ):
                last = state or last
        assert last is not None
        return _decode_view(last)

    @get(
        "/{challenge_id:str}/events",
        summary="Server-Sent Events: the state, then the outcome",
        media_type=sse.MEDIA_TYPE,
    )
    async def events(
        self, request: Request[Any, Any, Any], challenge_id: ChallengeId, services: ServicesDep
    ) -> Stream:
        """Sends a ``status`` event now and another when the challenge resolves, then closes."""
        frames = watch(
            challenges=services.challenges,
            notifier=services.notifier,
            challenge_id=challenge_id,
            timeout=None,
            keepalive=services.settings.stream_keepalive_seconds,
            app=calling_app(request),
        )
        # The first state is read before the response starts: an unknown id is a 404.
        first = await anext(frames)
        # The key is checked again while the stream lasts: revoked, the stream ends.
        key_works = KeyStillLive(services.apps, request, services.settings.stream_keepalive_seconds)

        async def stream() -> AsyncIterator[bytes]:
            try:
                with services.metrics.waiter("events"):
                    yield sse.frame("status", first or b"")
                    async for state in frames:
                        if not await key_works():
                            return
                        yield sse.KEEPALIVE if state is None else sse.frame("status", state)
            finally:
                await frames.aclose()

        return sse.response(stream())

    @post("/{challenge_id:str}/cancel", status_code=200, summary="Cancel a pending challenge")
    async def cancel(
        self, request: Request[Any, Any, Any], challenge_id: ChallengeId, services: ServicesDep
    ) -> ChallengeOut:
        return await services.challenges.cancel(challenge_id, calling_app(request))
