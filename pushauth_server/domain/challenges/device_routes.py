"""Device routes for challenges: list pending, the live stream, and the signed response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from pushauth_server.domain.challenges.schemas import (
    DeviceChallengeOut,
    ResponseIn,
    ResponseOut,
    device_challenge_out,
)
from pushauth_server.realtime import EventReader, user_channel
from pushauth_server.services import ServicesDep


def _message(event: str, payload: Any) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=event, data=msgspec.json.encode(payload).decode())


class DeviceChallengeController(Controller):
    path = "/v1/device"
    tags = ["device"]

    @get(
        "/challenges",
        summary="Pending challenges for this device's user",
        security=[{"DeviceProof": []}],
    )
    async def pending(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> list[DeviceChallengeOut]:
        credential = await services.device_auth.authenticate(request)
        pending = await services.challenges.pending_for_user(credential.user_id)
        return [device_challenge_out(challenge) for challenge in pending]

    @get(
        "/stream",
        summary="Server-Sent Events: challenges as they are created",
        security=[{"DeviceProof": []}],
    )
    async def stream(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> ServerSentEvent:
        """Sends what is already pending, then ``ready``, then each ``challenge`` as it is created,
        ``resolved`` when one is settled elsewhere, and ``revoked`` (then closes) if this device
        is revoked."""
        credential = await services.device_auth.authenticate(request)
        keepalive = services.settings.stream_keepalive_seconds

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            # Subscribe first, then read what is pending: nothing created in between is lost.
            async with services.notifier.subscribe(user_channel(credential.user_id)) as subscriber:
                reader = EventReader(subscriber)
                try:
                    # Revoked between the proof check and the subscription? Its event is gone:
                    # check again now that nothing more can be missed.
                    await services.device_auth.active_credential(credential.credential_id)
                    sent: set[str] = set()
                    for challenge in await services.challenges.pending_for_user(credential.user_id):
                        sent.add(challenge.challenge_id)
                        yield _message("challenge", device_challenge_out(challenge))
                    yield _message("ready", {"credential_id": credential.credential_id})
                    while not reader.closed:
                        event = await reader.next(keepalive)
                        if event is None:
                            yield ServerSentEventMessage(
                                comment="keep-alive", data=None
                            )  # no data: line
                        elif event["type"] == "challenge":
                            challenge_id = event["challenge"]["challenge_id"]
                            if challenge_id not in sent:
                                sent.add(challenge_id)
                                yield _message("challenge", event["challenge"])
                        elif event["type"] == "resolved":
                            sent.discard(event["challenge_id"])
                            yield _message("resolved", event)
                        elif (
                            event["type"] == "revoked"
                            and event["credential_id"] == credential.credential_id
                        ):
                            yield _message("revoked", event)
                            return
                finally:
                    reader.close()

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store"})

    @post(
        "/challenges/{challenge_id:str}/response",
        status_code=200,
        summary="Answer a challenge with a signed decision",
    )
    async def respond(
        self,
        challenge_id: Annotated[str, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        data: JSONBody[ResponseIn],
        services: ServicesDep,
    ) -> ResponseOut:
        credential = await services.device_auth.active_credential(data.credential_id)
        challenge = await services.challenges.respond(
            challenge_id=challenge_id,
            credential=credential,
            decision=data.decision,
            reason=data.reason,
            verification_code=data.verification_code,
            signature=data.signature,
        )
        return ResponseOut(
            challenge_id=challenge.challenge_id,
            status=challenge.status.value,
            reason=challenge.reason,
        )
