"""The start-up check of the triggers that keep the audit table append-only and chained.

The application never updates or deletes an audit row; these triggers make the database refuse
it as well, so a bug cannot rewrite history. On SQLite, ``recursive_triggers`` is on for every
connection (storage/database.py), so ``INSERT OR REPLACE`` fires the delete trigger and fails, and
an UPSERT's ``DO UPDATE`` fires the update trigger and fails. On PostgreSQL a further trigger links
each new row into the hash chain (storage/audit_chain.py). The migrations create them
(storage/migrations/versions: 0001_baseline, 0002_hot_path_and_audit_chain).

Someone with the database owner's rights can still drop or disable a trigger, or rewrite rows:
:func:`check_triggers` refuses to start the server when a trigger is missing or disabled, and
``pushauth audit verify`` finds rewritten, deleted or unchained rows (see docs/operations.md for
the least-privilege PostgreSQL setup that keeps the application's own role from doing either).
"""

from __future__ import annotations

from sqlalchemy import Connection as SyncConnection
from sqlalchemy import text

SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete")
POSTGRES_TRIGGERS = ("audit_events_no_change", "audit_events_no_truncate", "audit_events_chain")


class AuditTriggersMissing(RuntimeError):
    """The audit table's guard triggers are missing or disabled: someone changed the schema."""


def _postgres_triggers(connection: SyncConnection) -> dict[str, bool]:
    rows = connection.execute(
        text(
            "SELECT tgname, tgenabled <> 'D' AS enabled FROM pg_trigger "
            "WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
        )
    )
    return {row.tgname: bool(row.enabled) for row in rows}


def check_triggers(connection: SyncConnection) -> None:
    """Raise :class:`AuditTriggersMissing` unless every guard trigger exists and is enabled."""
    if connection.dialect.name == "postgresql":
        present = _postgres_triggers(connection)
        expected: tuple[str, ...] = POSTGRES_TRIGGERS
        missing = [name for name in expected if name not in present]
        disabled = [name for name in expected if present.get(name) is False]
    else:
        rows = connection.execute(
            text(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'audit_events'"
            )
        )
        names = {row.name for row in rows}
        expected = SQLITE_TRIGGERS
        missing = [name for name in expected if name not in names]
        disabled = []
    if missing or disabled:
        what = "; ".join(
            part
            for part in (
                f"missing: {', '.join(missing)}" if missing else "",
                f"disabled: {', '.join(disabled)}" if disabled else "",
            )
            if part
        )
        raise AuditTriggersMissing(
            f"The audit table's guard triggers are not in place ({what}). Someone with the "
            "database owner's rights changed the schema, and may have changed the audit trail: "
            "keep a copy of the database, restore the triggers as docs/operations.md shows "
            '("Start-up check"), start pushauth again and run `pushauth audit verify` '
            "(with --since-head if you recorded a head). pushauth refuses to start without them."
        )
