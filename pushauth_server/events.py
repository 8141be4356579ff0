"""Every message on a real-time channel, as a typed struct that its publisher encodes once.

Three kinds of channel (names in :mod:`pushauth_server.realtime`):

* ``user:<user_id>`` carries :data:`UserEvent`: what the user's devices must hear. Each is a
  tagged struct whose JSON has a ``type`` field; the device stream forwards the published bytes
  as the ``data`` of an SSE event named after that type, without decoding them again.
* ``challenge:<challenge_id>`` carries one :class:`ChallengeOut`: the relying party's whole view
  of the challenge in its final state (exactly what ``GET /v1/challenges/{id}`` returns), so a
  waiting relying party never reads the database again.
* ``audit`` carries :class:`~pushauth_server.domain.audit.records.AuditEventOut` rows.

Subscribers that must route or filter decode only a few top-level fields (:class:`Routing`):
msgspec skips the rest without building it.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import Struct

from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.schemas import (
    ChallengeOut,
    DeviceChallengeOut,
    device_challenge_out,
)


class ChallengeEvent(DeviceChallengeOut, tag="challenge", tag_field="type", kw_only=True):
    """A new challenge for the user: everything a device displays and signs, never the code."""


def challenge_event(challenge: Challenge) -> ChallengeEvent:
    return ChallengeEvent(**msgspec.structs.asdict(device_challenge_out(challenge)))


class ResolvedEvent(Struct, tag="resolved", tag_field="type", kw_only=True):
    """A challenge of the user's was settled (on another device, by the relying party, by time).

    ``replaced_by``: for a challenge cancelled because the relying party replaced it, the new one.
    """

    challenge_id: str
    status: Literal["approved", "denied", "expired", "cancelled"]
    reason: str | None
    replaced_by: str | None = None


class RevokedEvent(Struct, tag="revoked", tag_field="type", kw_only=True):
    """A device was revoked; its stream closes after forwarding this."""

    credential_id: str


UserEvent = ChallengeEvent | ResolvedEvent | RevokedEvent


class Routing(Struct):
    """The fields a subscriber routes on; decoding into it skips everything else."""

    type: str | None = None
    challenge_id: str | None = None
    credential_id: str | None = None
    user_id: str | None = None
    event_id: int | None = None


_encoder = msgspec.json.Encoder()
_routing = msgspec.json.Decoder(Routing)


def encode(event: UserEvent | ChallengeOut) -> bytes:
    return _encoder.encode(event)


def routing(data: bytes) -> Routing:
    return _routing.decode(data)


__all__ = [
    "ChallengeEvent",
    "ChallengeOut",
    "ResolvedEvent",
    "RevokedEvent",
    "Routing",
    "UserEvent",
    "challenge_event",
    "encode",
    "routing",
]
