"""Relying-party applications (issue 11): the applications and api_keys tables, the application
recorded on challenges, enrollment tokens and credentials, and the built-in operator application
the bootstrap key (``PUSHAUTH_API_KEY``) acts as (domain/apps/models.py ``OPERATOR``).

Like 0002, each step adds only what is missing (a database made by the code just before
migrations already had these tables).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0003_applications"
down_revision: str | None = "0002_hot_path_and_audit_chain"
branch_labels = None
depends_on = None

# The operator application as this revision creates it (kept literal: a revision never changes).
_OPERATOR = {
    "app_id": "app_operator",
    "name": "operator",
    "display_name": "Operator",
    "scopes": "admin challenges enrollment",
    "users_json": None,
    "last_used_at_ms": None,
    "revoked_at_ms": None,
}


def upgrade() -> None:
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    for table in ("enrollment_tokens", "credentials", "challenges"):
        if "app_id" not in {column["name"] for column in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("app_id", sa.String(40), nullable=True))
    if not inspector.has_table("applications"):
        op.create_table(
            "applications",
            sa.Column("app_id", sa.String(40), primary_key=True),
            sa.Column("name", sa.String(64), nullable=False, unique=True),
            sa.Column("display_name", sa.String(128), nullable=False),
            sa.Column("scopes", sa.String(128), nullable=False),
            sa.Column("users_json", sa.Text, nullable=True),
            sa.Column("created_at_ms", sa.BigInteger, nullable=False),
            sa.Column("last_used_at_ms", sa.BigInteger, nullable=True),
            sa.Column("revoked_at_ms", sa.BigInteger, nullable=True),
        )
    if not inspector.has_table("api_keys"):
        op.create_table(
            "api_keys",
            sa.Column("key_id", sa.String(40), primary_key=True),
            sa.Column("app_id", sa.String(40), nullable=False),
            sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("created_at_ms", sa.BigInteger, nullable=False),
            sa.Column("expires_at_ms", sa.BigInteger, nullable=True),
            sa.Column("revoked_at_ms", sa.BigInteger, nullable=True),
        )
        op.create_index("ix_api_keys_app_id", "api_keys", ["app_id"])
    applications = sa.table(
        "applications", *(sa.column(name) for name in [*_OPERATOR, "created_at_ms"])
    )
    found = connection.execute(
        sa.select(applications.c.app_id).where(applications.c.app_id == _OPERATOR["app_id"])
    ).first()
    if found is None:
        op.bulk_insert(applications, [{**_OPERATOR, "created_at_ms": int(time.time() * 1000)}])


def downgrade() -> None:
    raise NotImplementedError("pushauth does not downgrade: restore the backup taken before.")
