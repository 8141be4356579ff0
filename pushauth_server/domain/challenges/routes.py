"""Relying-party routes for challenges (Bearer API key)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.schemas import ChallengeOut, CreateChallengeIn, challenge_out
from pushauth_server.domain.challenges.waiting import watch
from pushauth_server.services import ServicesDep

ChallengeId = Annotated[
    str,
    Parameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The challenge id (ch_...)."),
]


async def _out(services: ServicesDep, challenge: Challenge) -> ChallengeOut:
    return challenge_out(challenge, await services.challenges.credential_for(challenge))


class ChallengeController(Controller):
    path = "/v1/challenges"
    tags = ["relying party"]
    security = [{"ApiKey": []}]

    @post("/", summary="Create a challenge and push it to the user's devices")
    async def create(
        self, data: JSONBody[CreateChallengeIn], services: ServicesDep
    ) -> ChallengeOut:
        challenge, devices = await services.challenges.create(data)
        return challenge_out(challenge, devices=devices)

    @get("/{challenge_id:str}", summary="Read a challenge")
    async def read(self, challenge_id: ChallengeId, services: ServicesDep) -> ChallengeOut:
        return await _out(services, await services.challenges.get(challenge_id))

    @get("/{challenge_id:str}/wait", summary="Long-poll until the challenge resolves")
    async def wait(
        self,
        challenge_id: ChallengeId,
        services: ServicesDep,
        timeout_seconds: Annotated[float, Parameter(ge=0, le=60)] = 25.0,
    ) -> ChallengeOut:
        """Returns as soon as the challenge is resolved, or after ``timeout_seconds`` pending."""
        last: Challenge | None = None
        async for state in watch(
            challenges=services.challenges,
            notifier=services.notifier,
            challenge_id=challenge_id,
            timeout=timeout_seconds,
            keepalive=timeout_seconds or 0.001,
        ):
            last = state or last
        assert last is not None
        return await _out(services, last)

    @get("/{challenge_id:str}/events", summary="Server-Sent Events: the state, then the outcome")
    async def events(self, challenge_id: ChallengeId, services: ServicesDep) -> ServerSentEvent:
        """Sends a ``status`` event now and another when the challenge resolves, then closes."""
        first = await services.challenges.get(challenge_id)  # 404 before the stream starts

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async for state in watch(
                challenges=services.challenges,
                notifier=services.notifier,
                challenge_id=first.challenge_id,
                timeout=None,
                keepalive=services.settings.stream_keepalive_seconds,
            ):
                if state is None:
                    # Comment only: a data: line fires an empty EventSource message.
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                else:
                    body = msgspec.json.encode(await _out(services, state)).decode()
                    yield ServerSentEventMessage(event="status", data=body)

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store"})

    @post("/{challenge_id:str}/cancel", status_code=200, summary="Cancel a pending challenge")
    async def cancel(self, challenge_id: ChallengeId, services: ServicesDep) -> ChallengeOut:
        return await _out(services, await services.challenges.cancel(challenge_id))
