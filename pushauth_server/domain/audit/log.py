"""Writing the audit trail: inside a service's own transaction, or alone for rejected requests.

Rows are only ever inserted. Each row is also published on the ``audit`` channel after its
transaction commits, for ``pushauth audit --follow``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import msgspec
from sqlalchemy import insert

from pushauth_server.domain.audit.noise import Aggregator, ClientLimiter, client_address
from pushauth_server.domain.audit.reads import ReadFolder
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.observability.logs import security_event
from pushauth_server.realtime import Notifier
from pushauth_server.storage import Connection, Database
from pushauth_server.storage.audit_chain import SQLITE_INSERT
from pushauth_server.storage.tables import audit_events

AUDIT_CHANNEL = "audit"
logger = logging.getLogger("pushauth.audit")


# Written to the log (pushauth.security) as well as the trail: every refused request (record()),
# and these outcomes of a committed transaction.
SECURITY_EVENTS = frozenset(
    {
        AuditEvent.CHALLENGE_NOT_ME,
        AuditEvent.CHALLENGE_REFUSED,
        AuditEvent.USER_LOCKED,
        AuditEvent.USER_UNLOCKED,
        AuditEvent.DEVICE_REVOKED,
        AuditEvent.FAILURES_SUPPRESSED,
        AuditEvent.AUDIT_ROWS_LOST,
    }
)


def _log(record: AuditRecord, client: str | None = None) -> None:
    security_event(
        record.event,
        client=client,
        user_id=record.user_id,
        credential_id=record.credential_id,
        challenge_id=record.challenge_id,
        detail=record.detail,
    )


_INSERT = insert(audit_events).returning(audit_events.c.event_id)  # PostgreSQL: a trigger links
_encoder = msgspec.json.Encoder()


async def append(connection: Connection, record: AuditRecord) -> AuditRecord:
    """Insert ``record``, linked into the hash chain by the same statement (audit_chain.py)."""
    statement = SQLITE_INSERT if connection.dialect.name == "sqlite" else _INSERT
    result = await connection.execute(statement, record.to_row())
    event_id = int(result.scalar_one())
    return AuditRecord(**{**record.__dict__, "event_id": event_id})


class AuditLog:
    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        *,
        failed_requests_per_minute: int = 30,
        failure_rows_per_minute: int = 600,
    ) -> None:
        self._db = database
        self._notifier = notifier
        # Failed requests: counted per client address, folded into counted rows (noise.py).
        self.limiter = ClientLimiter(failed_requests_per_minute)
        self.failures = Aggregator(write=self._write, rows_per_minute=failure_rows_per_minute)
        # Reads by applications (challenges, the audit trail): folded, written by tick().
        self.reads = ReadFolder()
        self._unwritten: deque[AuditRecord] = deque(maxlen=10_000)
        self._lost = 0

    async def publish(self, records: list[AuditRecord]) -> None:
        for record in records:
            if record.event in SECURITY_EVENTS:
                _log(record)
            await self._notifier.publish_bytes(_encoder.encode(record.to_out()), AUDIT_CHANNEL)

    async def record(self, record: AuditRecord, *, authenticated: bool = False) -> None:
        """A rejected request: counted against its client address, and written as
        :mod:`.noise` allows (the first of a kind at once, repeats folded into a count).

        ``authenticated``: refused although its API key was valid (a scope or user the key's
        application lacks): folded the same way, but not counted against the address, whose
        other requests with that valid key must go on."""
        address = client_address.get()
        _log(record, address)
        if address is not None and not authenticated:
            self.limiter.fail(address)
        await self.failures.failed(record, address)

    async def _write(self, record: AuditRecord) -> None:
        """Append ``record`` in its own transaction; if the database cannot take it now, keep it
        (in memory, bounded) to write again, and log it in full meanwhile."""
        try:
            async with self._db.write() as connection:
                written = await append(connection, record)
        except Exception as exc:  # never let auditing turn a 4xx into a 500; but say so loudly
            self._keep(record, exc)
            return
        await self.publish([written])

    @property
    def kept(self) -> int:
        """Rows held in memory because the database could not take them yet."""
        return len(self._unwritten)

    def _keep(self, record: AuditRecord, exc: Exception) -> None:
        if len(self._unwritten) == self._unwritten.maxlen:
            self._lost += 1  # the oldest kept row falls out: counted, and said in the trail later
        self._unwritten.append(record)
        logger.error(
            "could not write audit record %s (%s); kept in memory to write again: %s",
            record.event.value,
            type(exc).__name__,
            _encoder.encode(record.to_out()).decode(),
        )

    async def write_kept(self) -> None:
        """Write the rows kept while the database was unreachable, oldest first."""
        while self._unwritten:
            record = self._unwritten[0]
            try:
                async with self._db.write() as connection:
                    written = await append(connection, record)
            except Exception:  # still unreachable: the next tick tries again
                return
            self._unwritten.popleft()
            await self.publish([written])
        if self._lost:
            lost, self._lost = self._lost, 0
            await self._write(AuditRecord(event=AuditEvent.AUDIT_ROWS_LOST, detail={"count": lost}))

    async def write_reads(self) -> None:
        """Write the folded reads (reads.py) in one transaction; kept in memory if it fails."""
        records = self.reads.take()
        if not records:
            return
        try:
            async with self._db.write() as connection:
                written = [await append(connection, record) for record in records]
        except Exception as exc:
            for record in records:
                self._keep(record, exc)
            return
        await self.publish(written)

    async def tick(self) -> None:
        await self.failures.flush()
        await self.write_reads()
        await self.write_kept()

    async def run(self, interval: float = 5.0) -> None:
        """Forever: write ended failure windows and rows kept while the database was away."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                logger.exception("could not write pending audit rows")

    async def close(self) -> None:
        """At shutdown: write what is still held in memory (what cannot be written is logged)."""
        await self.failures.flush(everything=True)
        await self.write_reads()
        await self.write_kept()
        if self._unwritten:
            logger.error(
                "%d audit records could not be written before shutdown; each was logged above",
                len(self._unwritten),
            )
