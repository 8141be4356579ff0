"""The schema of the last release before migrations (commit 7f053d1), with its audit triggers.

A database created by that release (or by any later code before migrations existed) has these
tables but no ``alembic_version``: storage/migrate.py stamps it with this revision and upgrades
it from here. Written out in full rather than imported from tables.py: a revision never changes
once released.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision: str | None = None
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
]
_POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "enrollment_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
        sa.Column("used_at_ms", sa.BigInteger, nullable=True),
        sa.Column("credential_id", sa.String(64), nullable=True),
    )
    op.create_table(
        "credentials",
        sa.Column("credential_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("last_used_at_ms", sa.BigInteger, nullable=True),
        sa.Column("revoked_at_ms", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_credentials_user_id", "credentials", ["user_id"])
    op.create_table(
        "challenges",
        sa.Column("challenge_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("context_json", sa.Text, nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("verification_code", sa.String(8), nullable=False),
        sa.Column("number_matching", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
        sa.Column("resolved_at_ms", sa.BigInteger, nullable=True),
        sa.Column("credential_id", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("response_reason", sa.String(16), nullable=True),
        sa.Column("response_code", sa.String(8), nullable=True),
        sa.Column("signature", sa.String(128), nullable=True),
    )
    op.create_index("ix_challenges_user_status", "challenges", ["user_id", "status"])
    op.create_index("ix_challenges_status_expires", "challenges", ["status", "expires_at_ms"])
    op.create_table(
        "request_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("credential_id", sa.String(64), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_request_nonces_expires_at_ms", "request_nonces", ["expires_at_ms"])
    op.create_table(
        "user_limits",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger, nullable=True),
        sa.Column("locked_not_me", sa.Boolean, nullable=False),
        sa.Column("rate_strikes", sa.Integer, nullable=False),
        sa.Column("rate_blocked_until_ms", sa.BigInteger, nullable=True),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("credential_id", sa.String(64), nullable=True),
        sa.Column("challenge_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("context_json", sa.Text, nullable=True),
        sa.Column("detail_json", sa.Text, nullable=True),
        sa.Column("receipt_json", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_events_at_ms", "audit_events", ["at_ms"])
    op.create_index("ix_audit_events_user_id", "audit_events", ["user_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_TRIGGERS if sqlite else _POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("pushauth does not downgrade: restore the backup taken before.")
