"""Writing the audit trail: inside a service's own transaction, or alone for rejected requests.

Rows are only ever inserted. Each row is also published on the ``audit`` channel after its
transaction commits, for ``pushauth audit --follow``.
"""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy import insert

from pushauth_server.domain.audit.records import AuditRecord
from pushauth_server.realtime import Notifier
from pushauth_server.storage import Connection, Database
from pushauth_server.storage.tables import audit_events

AUDIT_CHANNEL = "audit"
logger = logging.getLogger("pushauth.audit")


_INSERT = insert(audit_events).returning(audit_events.c.event_id)
_encoder = msgspec.json.Encoder()


async def append(connection: Connection, record: AuditRecord) -> AuditRecord:
    result = await connection.execute(_INSERT, record.to_row())
    event_id = int(result.scalar_one())
    return AuditRecord(**{**record.__dict__, "event_id": event_id})


class AuditLog:
    def __init__(self, database: Database, notifier: Notifier) -> None:
        self._db = database
        self._notifier = notifier

    async def publish(self, records: list[AuditRecord]) -> None:
        for record in records:
            await self._notifier.publish_bytes(_encoder.encode(record.to_out()), AUDIT_CHANNEL)

    async def record(self, record: AuditRecord) -> None:
        """Append ``record`` in its own transaction (used for requests that are rejected)."""
        try:
            async with self._db.write() as connection:
                written = await append(connection, record)
        except Exception:  # never let auditing turn a 4xx into a 500; but say so loudly
            logger.exception("could not write audit record %s", record.event)
            return
        await self.publish([written])
