"""Relying-party routes for the audit trail: list, follow live, the chain head, verify."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Stream
from msgspec import Struct
from sqlalchemy import select

from pushauth_server import errors, sse
from pushauth_server.domain.apps.access import check_unrestricted
from pushauth_server.domain.apps.guard import require_user
from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.domain.apps.live import KeyStillLive
from pushauth_server.domain.apps.models import AppIdentity, Scope
from pushauth_server.domain.audit import store, verify
from pushauth_server.domain.audit.chain import Head
from pushauth_server.domain.audit.log import AUDIT_CHANNEL
from pushauth_server.domain.audit.records import AuditEvent
from pushauth_server.events import routing
from pushauth_server.protocol.identifiers import USER_ID_MAX_LENGTH, USER_ID_PATTERN
from pushauth_server.realtime import EventReader
from pushauth_server.services import ServicesDep
from pushauth_server.storage.tables import audit_events

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


class ChainOut(Struct, kw_only=True):
    rows: int  # rows with a place in the hash chain
    before_chain: int  # rows written before this database had the chain (not checkable)
    head: str | None  # SEQ:HASH of the newest row
    since_head: str | None  # the recorded head that was checked, if one was given


class VerifyOut(Struct, kw_only=True):
    checked: int
    valid: bool
    problems: list[ProblemOut]
    chain: ChainOut


class HeadOut(Struct, kw_only=True):
    seq: int | None
    hash: str | None
    head: str | None  # SEQ:HASH, as `audit verify --since-head` takes it
    event_id: int | None
    at_ms: int | None


_HEAD = (
    select(
        audit_events.c.seq, audit_events.c.row_hash, audit_events.c.event_id, audit_events.c.at_ms
    )
    .where(audit_events.c.seq.is_not(None))
    .order_by(audit_events.c.seq.desc())
    .limit(1)
)


async def _reader(
    request: Request[Any, Any, Any], services: ServicesDep, user_id: str | None, what: str
) -> AppIdentity:
    """The calling app, allowed to read this part of the trail; its read is noted (folded and
    written in the background: domain/audit/reads.py). A user-restricted app reads only one of
    its users' rows, and must name the user (``user_id``): the whole trail is other users'."""
    app = calling_app(request)
    if user_id is None:
        check_unrestricted(app)
    else:
        await require_user(services.audit, app, user_id, what)
    services.audit.reads.note(AuditEvent.AUDIT_READ, app, detail={"what": what, "user_id": user_id})
    return app


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["relying party"]
    security = [{"ApiKey": []}]
    opt = {"scope": Scope.ADMIN}

    @get("/", summary="List audit events, oldest first")
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        services: ServicesDep,
        user_id: UserFilter = None,
        since_ms: SinceMs = None,
        after_id: AfterId = None,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 1000,
    ) -> AuditPage:
        await _reader(request, services, user_id, "list")
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
        request: Request[Any, Any, Any],
        services: ServicesDep,
        user_id: UserFilter = None,
        after_id: AfterId = None,
    ) -> Stream:
        """Sends events after ``after_id`` (if given), then each new one as an ``audit`` event."""
        await _reader(request, services, user_id, "stream")
        keepalive = services.settings.stream_keepalive_seconds
        # The key is checked again while the stream lasts: revoked, the stream ends.
        key_works = KeyStillLive(services.apps, request, keepalive)

        async def events() -> AsyncIterator[bytes]:
            async with services.notifier.subscribe(AUDIT_CHANNEL) as subscriber:
                reader = EventReader(subscriber)
                # Ids already sent: live events can arrive out of id order (concurrent commits,
                # several processes), so de-duplicate by id instead of dropping lower ids.
                sent: set[int] = set()
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
                    if not await key_works():
                        return
                    if data is None:
                        if not reader.closed:
                            yield sse.KEEPALIVE
                        continue
                    event = routing(data)  # the published bytes are forwarded as they are
                    if event.type == "reconnected":  # after a Redis outage: read again
                        known = [*sent, after_id] if after_id is not None else list(sent)
                        if known:
                            async with services.database.read() as connection:
                                missed = await store.events(
                                    connection, user_id=user_id, after_id=max(known), limit=5000
                                )
                            for record in missed:
                                if (record.event_id or 0) not in sent:
                                    sent.add(record.event_id or 0)
                                    yield sse.frame("audit", _encode(record.to_out()))
                        continue
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

        return sse.response(events())

    @get("/head", summary="The latest row of the audit hash chain, to record elsewhere")
    async def head(self, request: Request[Any, Any, Any], services: ServicesDep) -> HeadOut:
        """``seq`` and ``hash`` of the newest chained row; record ``SEQ:HASH`` outside pushauth
        (a ticket, a log shipper) and later ``POST /v1/audit/verify?since_head=SEQ:HASH``."""
        await _reader(request, services, None, "head")
        async with services.database.read() as connection:
            row = (await connection.execute(_HEAD)).first()
        if row is None:
            return HeadOut(seq=None, hash=None, head=None, event_id=None, at_ms=None)
        return HeadOut(
            seq=row.seq,
            hash=row.row_hash,
            head=f"{row.seq}:{row.row_hash}",
            event_id=row.event_id,
            at_ms=row.at_ms,
        )

    @post("/verify", status_code=200, summary="Check the hash chain, the receipts and the state")
    async def verify(
        self,
        request: Request[Any, Any, Any],
        services: ServicesDep,
        since_head: Annotated[str | None, Parameter(max_length=100, required=False)] = None,
    ) -> VerifyOut:
        """The hash chain (rewritten, deleted, unchained rows; with ``since_head``, that the row
        recorded then still has its hash), every signed receipt, and the audit trail against the
        challenges and credentials. ``valid`` is true only when nothing was found."""
        await _reader(request, services, None, "verify")
        since: Head | None = None
        if since_head is not None:
            try:
                since = Head.parse(since_head)
            except ValueError as exc:
                raise errors.InvalidRequest(f"since_head: {exc}.", field="since_head") from None
        async with services.database.read() as connection:
            report = await verify.run(
                connection, current_origin=services.settings.origin, since=since
            )
        chain = report.chain
        return VerifyOut(
            checked=report.checked,
            valid=report.valid,
            problems=[
                ProblemOut(where=p.where, challenge_id=p.challenge_id, problem=p.problem)
                for p in report.problems
            ],
            chain=ChainOut(
                rows=chain.rows,
                before_chain=chain.before_chain,
                head=str(chain.head) if chain.head else None,
                since_head=str(since) if since else None,
            ),
        )
