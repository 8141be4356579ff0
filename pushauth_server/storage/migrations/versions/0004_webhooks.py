"""Webhook endpoints and the delivery outbox (issue 14).

Revision ID: 0004_webhooks
Revises: 0003_applications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_webhooks"
down_revision: str | None = "0003_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("endpoint_id", sa.String(40), primary_key=True),
        sa.Column("app_id", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.String(512), nullable=True),
        sa.Column("secret_sealed", sa.String(256), nullable=False),
        sa.Column("previous_secret_sealed", sa.String(256), nullable=True),
        sa.Column("previous_until_ms", sa.BigInteger, nullable=True),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_webhook_endpoints_app_id", "webhook_endpoints", ["app_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(96), primary_key=True),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("app_id", sa.String(40), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_at_ms", sa.BigInteger, nullable=False),
        sa.Column("retry_until_ms", sa.BigInteger, nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger, nullable=True),
        sa.Column("leased_by", sa.String(40), nullable=True),
        sa.Column("last_attempt_at_ms", sa.BigInteger, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("finished_at_ms", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_webhook_deliveries_endpoint_id", "webhook_deliveries", ["endpoint_id"])
    op.create_index(
        "ix_webhook_deliveries_status_next",
        "webhook_deliveries",
        ["status", "next_attempt_at_ms"],
    )
    op.create_index("ix_webhook_deliveries_created", "webhook_deliveries", ["created_at_ms"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
