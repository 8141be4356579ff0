"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL.

The application never updates or deletes an audit row; these triggers make the database refuse
it as well, so a bug cannot rewrite history. (Someone with the database owner's rights can still
drop a trigger: ``pushauth audit verify`` re-checks every signed receipt for that case.)
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from pushauth_server.storage.tables import audit_events

_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
]
_POSTGRES = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]


def _ddl(statement: str) -> DDL:
    return DDL(statement)  # type: ignore[no-untyped-call]


for statement in _SQLITE:
    event.listen(audit_events, "after_create", _ddl(statement).execute_if(dialect="sqlite"))
for statement in _POSTGRES:
    event.listen(audit_events, "after_create", _ddl(statement).execute_if(dialect="postgresql"))
