"""Issues 8-10: the limits' indexes, the audit hash chain and its PostgreSQL triggers, and the
origins this deployment has served under.

Databases created between the release and migrations already have some of this (the code of
that time patched the schema at start-up), so every step here adds only what is missing. Rows
already in the audit table keep NULL chain columns, as the start-up upgrade of that time left
them: ``pushauth audit verify`` counts them as written before the chain. The guard triggers are
installed only on a table that lacked the chain; on any other a missing trigger is reported at
start-up (storage/audit_guard.check_triggers), never silently restored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pushauth_server.storage.audit_chain import POSTGRES_DDL

revision = "0002_hot_path_and_audit_chain"
down_revision: str | None = "0001_baseline"
branch_labels = None
depends_on = None

_POSTGRES_TRUNCATE = (
    # TRUNCATE is a statement of its own: no row trigger sees it.
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
)
_CHAIN_COLUMNS = (
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("row_hash", sa.String(64), nullable=True),
)
_INDEXES = {
    "ix_challenges_user_created": ("challenges", ["user_id", "created_at_ms"]),
    "ix_challenges_user_status_resolved": (
        "challenges",
        ["user_id", "status", "resolved_at_ms"],
    ),
}


def _indexes(inspector: sa.Inspector, table: str) -> set[str]:
    return {str(index["name"]) for index in inspector.get_indexes(table)}


def _postgres_triggers(connection: sa.Connection) -> set[str]:
    rows = connection.execute(
        sa.text(
            "SELECT tgname FROM pg_trigger "
            "WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
        )
    )
    return {row.tgname for row in rows}


def upgrade() -> None:
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    for name, (table, columns) in _INDEXES.items():
        if name not in _indexes(inspector, table):
            op.create_index(name, table, columns)

    present = {column["name"] for column in inspector.get_columns("audit_events")}
    missing = [column for column in _CHAIN_COLUMNS if column.name not in present]
    for column in missing:
        op.add_column("audit_events", column)
    if "ux_audit_events_seq" not in _indexes(inspector, "audit_events"):
        op.create_index("ux_audit_events_seq", "audit_events", ["seq"], unique=True)
    if missing and connection.dialect.name == "postgresql":
        triggers = _postgres_triggers(connection)
        if "audit_events_no_truncate" not in triggers:
            op.execute(_POSTGRES_TRUNCATE)
        for statement in POSTGRES_DDL:  # the chain's functions (CREATE OR REPLACE) and trigger
            if not statement.startswith("CREATE TRIGGER") or "audit_events_chain" not in triggers:
                op.execute(statement)

    if not inspector.has_table("deployment_origins"):
        # Filled at each start (domain/audit/origins.py): the origin served, and on a database
        # with audit rows the origins its existing receipts carry ("legacy receipts").
        op.create_table(
            "deployment_origins",
            sa.Column("origin", sa.String(512), primary_key=True),
            sa.Column("protocol_version", sa.Integer, nullable=False),
            sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
            sa.Column("source", sa.String(32), nullable=False),
        )


def downgrade() -> None:
    raise NotImplementedError("pushauth does not downgrade: restore the backup taken before.")
