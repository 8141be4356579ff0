"""Writing the audit trail: inside a service's own transaction, or alone for rejected requests.

Rows are only ever inserted. Each row is also published on the ``audit`` channel after its
transaction commits, for ``pushauth audit --follow``.
"""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy import insert

from pushauth_server.domain.audit.noise import Aggregator, ClientLimiter, client_address
from pushauth_server.domain.audit.records import AuditRecord
from pushauth_server.realtime import Notifier
from pushauth_server.storage import Connection, Database
from pushauth_server.storage.audit_chain import SQLITE_INSERT
from pushauth_server.storage.tables import audit_events

AUDIT_CHANNEL = "audit"
logger = logging.getLogger("pushauth.audit")


_INSERT = insert(audit_events).returning(audit_events.c.event_id)  # PostgreSQL: a trigger links
_encoder = msgspec.json.Encoder()


async def append(connection: Connection, record: AuditRecord) -> AuditRecord:
    """Insert ``record``, linked into the hash chain (storage/audit_chain.py) by the same statement."""
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

    async def publish(self, records: list[AuditRecord]) -> None:
        for record in records:
            await self._notifier.publish_bytes(_encoder.encode(record.to_out()), AUDIT_CHANNEL)

    async def record(self, record: AuditRecord) -> None:
        """A rejected request: counted against its client address, and written as
        :mod:`.noise` allows (the first of a kind at once, repeats folded into a count)."""
        address = client_address.get()
        if address is not None:
            self.limiter.fail(address)
        await self.failures.failed(record, address)

    async def _write(self, record: AuditRecord) -> None:
        """Append ``record`` in its own transaction."""
        try:
            async with self._db.write() as connection:
                written = await append(connection, record)
        except Exception:  # never let auditing turn a 4xx into a 500; but say so loudly
            logger.exception("could not write audit record %s", record.event)
            return
        await self.publish([written])
