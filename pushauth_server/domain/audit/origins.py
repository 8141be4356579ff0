"""The origins this deployment has served under: receipts verify under the one they carry.

A device signs the server's origin into every answer. When a deployment moves (a new port, a new
``PUBLIC_URL``), receipts signed before the move must still verify, under their old origin; and a
receipt signed for an origin this deployment never served under is suspect. Each start records
the origin it serves under (once, with an audit row); a database that predates this table is
seeded with the origins its existing receipts carry (marked ``legacy receipts``).
"""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from pushauth_server.clock import now_ms
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.protocol import PROTOCOL_VERSION
from pushauth_server.storage import Connection, Database
from pushauth_server.storage.tables import audit_events, deployment_origins

_O = deployment_origins.c


async def known(connection: Connection) -> dict[str, int]:
    """Every origin this deployment has used, with the protocol version it served."""
    rows = await connection.execute(select(_O.origin, _O.protocol_version))
    return {row.origin: int(row.protocol_version) for row in rows}


async def _legacy_receipt_origins(connection: Connection) -> set[str]:
    found: set[str] = set()
    rows = await connection.execute(
        select(audit_events.c.receipt_json).where(audit_events.c.receipt_json.is_not(None))
    )
    for row in rows:
        try:
            origin = json.loads(row.receipt_json).get("origin")
        except (ValueError, AttributeError):
            continue
        if isinstance(origin, str) and len(origin) <= 512:
            found.add(origin)
    return found


async def register(database: Database, origin: str) -> bool:
    """Record that this deployment serves under ``origin``; True when it is new (and audited)."""
    async with database.read() as connection:
        if origin in await known(connection):
            return False
    now = now_ms()
    try:
        return await _add(database, origin, now)
    except IntegrityError:  # another process registered it at the same moment
        return False


async def _add(database: Database, origin: str, now: int) -> bool:
    async with database.write() as connection:
        current = await known(connection)
        if origin in current:
            return False
        empty = not current
        count = (await connection.execute(select(func.count()).select_from(audit_events))).scalar()
        values = [{"origin": origin, "source": "served"}]
        if empty and count:
            for legacy in sorted(await _legacy_receipt_origins(connection) - {origin}):
                values.append({"origin": legacy, "source": "legacy receipts"})
        for value in values:
            await connection.execute(
                insert(deployment_origins).values(
                    protocol_version=PROTOCOL_VERSION, first_seen_ms=now, **value
                )
            )
            await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.ORIGIN_ADDED,
                    at_ms=now,
                    detail={
                        "origin": value["origin"],
                        "protocol_version": PROTOCOL_VERSION,
                        "source": value["source"],
                    },
                ),
            )
    return True
