"""Device routes for challenges: list pending, the live stream, and the signed response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.response import Stream

from pushauth_server import errors, events, sse
from pushauth_server.domain.challenges.schemas import (
    DeviceChallengeOut,
    ResponseIn,
    ResponseOut,
    device_challenge_out,
)
from pushauth_server.observability.request_log import note_credential
from pushauth_server.realtime import EventReader, user_channel
from pushauth_server.services import Services, ServicesDep

_encode = msgspec.json.Encoder().encode


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
        _, pending = await services.device_auth.authenticate_with_pending(request)
        return [device_challenge_out(challenge) for challenge in pending]

    @get(
        "/stream",
        summary="Server-Sent Events: challenges as they are created",
        security=[{"DeviceProof": []}],
        media_type=sse.MEDIA_TYPE,
    )
    async def stream(self, request: Request[Any, Any, Any], services: ServicesDep) -> Stream:
        """Sends what is already pending, then ``ready``, then each ``challenge`` as it is created,
        ``resolved`` when one is settled elsewhere, and ``revoked`` (then closes) if this device
        is revoked. Each live event is forwarded as published, never decoded and encoded again."""
        credential = await services.device_auth.authenticate(request)
        credential_id = credential.credential_id
        keepalive = services.settings.stream_keepalive_seconds

        async def frames() -> AsyncIterator[bytes]:
            # Subscribe first, then read what is pending: nothing created in between is lost.
            with services.metrics.stream():
                async with services.notifier.subscribe(
                    user_channel(credential.user_id)
                ) as subscriber:
                    reader = EventReader(subscriber)
                    # Revoked between the proof check and the subscription? Its event is gone:
                    # check again now that nothing more can be missed.
                    try:
                        _, pending = await services.device_auth.active_credential_and_pending(
                            credential_id
                        )
                    except errors.CredentialRevoked:
                        revoked = events.RevokedEvent(credential_id=credential_id)
                        yield sse.frame("revoked", events.encode(revoked))
                        return
                    sent: set[str] = set()
                    for challenge in pending:
                        sent.add(challenge.challenge_id)
                        yield sse.frame(
                            "challenge", events.encode(events.challenge_event(challenge))
                        )
                    yield sse.frame("ready", _encode({"credential_id": credential_id}))
                    while not reader.closed:
                        data = await reader.next(keepalive)
                        if data is None:
                            if not reader.closed:
                                yield sse.KEEPALIVE
                            continue
                        route = events.routing(data)
                        challenge_id = route.challenge_id or ""
                        if route.type == "challenge":
                            if challenge_id not in sent:
                                sent.add(challenge_id)
                                yield sse.frame("challenge", data)
                        elif route.type == "resolved":
                            sent.discard(challenge_id)
                            yield sse.frame("resolved", data)
                        elif route.type == "revoked" and route.credential_id == credential_id:
                            yield sse.frame("revoked", data)
                            return
                        elif route.type == "reconnected":  # after a Redis outage: read again
                            missed, closed = await _catch_up(services, credential_id, sent)
                            for frame in missed:
                                yield frame
                            if closed:
                                return

        return sse.response(frames())

    @post(
        "/challenges/{challenge_id:str}/response",
        status_code=200,
        summary="Answer a challenge with a signed decision",
    )
    async def respond(
        self,
        request: Request[Any, Any, Any],
        challenge_id: Annotated[str, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        data: JSONBody[ResponseIn],
        services: ServicesDep,
    ) -> ResponseOut:
        challenge = await services.challenges.respond(
            challenge_id=challenge_id,
            credential_id=data.credential_id,
            decision=data.decision,
            reason=data.reason,
            verification_code=data.verification_code,
            signature=data.signature,
        )
        note_credential(request.scope, data.credential_id)  # its signed answer verified
        return ResponseOut(
            challenge_id=challenge.challenge_id,
            status=challenge.status.value,
            reason=challenge.reason,
        )


async def _catch_up(
    services: Services, credential_id: str, sent: set[str]
) -> tuple[list[bytes], bool]:
    """What a device stream missed while events could not be delivered: the challenges now
    pending that it has not sent, ``resolved`` for those it sent that are no longer pending,
    and ``revoked`` (True: close the stream) if the device was revoked meanwhile."""
    try:
        _, pending = await services.device_auth.active_credential_and_pending(credential_id)
    except errors.CredentialRevoked:
        revoked = events.RevokedEvent(credential_id=credential_id)
        return [sse.frame("revoked", events.encode(revoked))], True
    frames: list[bytes] = []
    now_pending = {challenge.challenge_id for challenge in pending}
    for challenge_id in sorted(sent - now_pending):
        settled = await services.challenges.get(challenge_id)
        sent.discard(challenge_id)
        resolved = events.ResolvedEvent(
            challenge_id=challenge_id,
            status=settled.status.value,  # type: ignore[arg-type]
            reason=settled.reason,
        )
        frames.append(sse.frame("resolved", events.encode(resolved)))
    for challenge in pending:
        if challenge.challenge_id not in sent:
            sent.add(challenge.challenge_id)
            frames.append(sse.frame("challenge", events.encode(events.challenge_event(challenge))))
    return frames, False
