"""Relying-party routes for the audit trail: list, follow live, verify the receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.response import Stream
from msgspec import Struct

from pushauth_server import sse
from pushauth_server.domain.audit import store
from pushauth_server.domain.audit.log import AUDIT_CHANNEL
from pushauth_server.events import routing
from pushauth_server.protocol.identifiers import USER_ID_MAX_LENGTH, USER_ID_PATTERN
from pushauth_server.realtime import EventReader
from pushauth_server.services import ServicesDep

_encode = msgspec.json.Encoder().encode

UserFilter = Annotated[
    str | None,
    Parameter(max_length=USER_ID_MAX_LENGTH, pattern=USER_ID_PATTERN, required=False),
]
# Ids and times are 64-bit signed integers in the database: a larger number is a 400, not a 500.
MAX_INT64 = 2**63 - 1
SinceMs = Annotated[int | None, Parameter(ge=0, le=MAX_INT64, required=False)]
AfterId = Annotated[int | None, Parameter(ge=0, le=MAX_INT64, required=False)]


class AuditPage(Struct, kw_only=True):
    events: list[dict[str, Any]]
    last_event_id: int | None


class ProblemOut(Struct, kw_only=True):
    where: str
    challenge_id: str | None
    problem: str


class VerifyOut(Struct, kw_only=True):
    checked: int
    valid: bool
    problems: list[ProblemOut]


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["relying party"]
    security = [{"ApiKey": []}]

    @get("/", summary="List audit events, oldest first")
    async def list_events(
        self,
        services: ServicesDep,
        user_id: UserFilter = None,
        since_ms: SinceMs = None,
        after_id: AfterId = None,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 1000,
    ) -> AuditPage:
        async with services.database.read() as connection:
            found = await store.events(
                connection, user_id=user_id, since_ms=since_ms, after_id=after_id, limit=limit
            )
        return AuditPage(
            events=[r.to_json() for r in found],
            last_event_id=found[-1].event_id if found else after_id,
        )

    @get(
        "/stream",
        summary="Server-Sent Events: audit events as they are written",
        media_type=sse.MEDIA_TYPE,
    )
    async def stream(
        self,
        services: ServicesDep,
        user_id: UserFilter = None,
        after_id: AfterId = None,
    ) -> Stream:
        """Sends events after ``after_id`` (if given), then each new one as an ``audit`` event."""
        keepalive = services.settings.stream_keepalive_seconds

        async def events() -> AsyncIterator[bytes]:
            async with services.notifier.subscribe(AUDIT_CHANNEL) as subscriber:
                reader = EventReader(subscriber)
                # Ids already sent: live events can arrive out of id order (concurrent commits,
                # several processes), so de-duplicate by id instead of dropping lower ids.
                sent: set[int] = set()
                try:
                    if after_id is not None:
                        async with services.database.read() as connection:
                            backlog = await store.events(
                                connection, user_id=user_id, after_id=after_id, limit=5000
                            )
                        for record in backlog:
                            sent.add(record.event_id or 0)
                            yield sse.frame("audit", _encode(record.to_out()))
                    yield sse.frame("ready", b"{}")
                    while not reader.closed:
                        data = await reader.next(keepalive)
                        if data is None:
                            if not reader.closed:
                                yield sse.KEEPALIVE
                            continue
                        event = routing(data)  # the published bytes are forwarded as they are
                        event_id = event.event_id or 0
                        if (
                            event_id not in sent
                            and event_id > (after_id or 0)
                            and (user_id is None or event.user_id == user_id)
                        ):
                            sent.add(event_id)
                            if len(sent) > 10_000:
                                sent.discard(min(sent))
                            yield sse.frame("audit", data)
                finally:
                    reader.close()

        return sse.response(events())

    @post("/verify", status_code=200, summary="Re-check every stored response signature")
    async def verify(self, services: ServicesDep) -> VerifyOut:
        async with services.database.read() as connection:
            checked, problems = await store.verify_receipts(connection, services.settings.origin)
        return VerifyOut(
            checked=checked,
            valid=not problems,
            problems=[
                ProblemOut(where=p.where, challenge_id=p.challenge_id, problem=p.problem)
                for p in problems
            ],
        )
