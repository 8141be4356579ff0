"""Table definitions (SQLAlchemy Core). Times are integer milliseconds since the Unix epoch."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

enrollment_tokens = Table(
    "enrollment_tokens",
    metadata,
    Column(
        "token_hash", String(64), primary_key=True
    ),  # SHA-256 hex; the token itself is never stored
    Column("user_id", String(128), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("used_at_ms", BigInteger, nullable=True),
    Column("credential_id", String(64), nullable=True),
    Column("app_id", String(40), nullable=True),  # the application that issued it
)

credentials = Table(
    "credentials",
    metadata,
    Column("credential_id", String(64), primary_key=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("last_used_at_ms", BigInteger, nullable=True),
    Column("revoked_at_ms", BigInteger, nullable=True),
    Column("app_id", String(40), nullable=True),  # the application it enrolled through
)

challenges = Table(
    "challenges",
    metadata,
    Column("challenge_id", String(64), primary_key=True),
    Column("user_id", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("context_json", Text, nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("verification_code", String(8), nullable=False),
    Column("number_matching", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("resolved_at_ms", BigInteger, nullable=True),
    # The signed response, kept whole so the decision can be verified again later.
    Column("credential_id", String(64), nullable=True),
    Column("decision", String(16), nullable=True),
    Column("response_reason", String(16), nullable=True),
    Column("response_code", String(8), nullable=True),
    Column("signature", String(128), nullable=True),
    Column("app_id", String(40), nullable=True),  # the application that created it
    Index("ix_challenges_user_status", "user_id", "status"),
    Index("ix_challenges_status_expires", "status", "expires_at_ms"),
    # The limits read a user's window (by creation time) and last approval (by resolution time)
    # with every create: without these, that cost grows with the user's whole history.
    Index("ix_challenges_user_created", "user_id", "created_at_ms"),
    Index("ix_challenges_user_status_resolved", "user_id", "status", "resolved_at_ms"),
)

# Request-proof nonces are kept in memory (pushauth_server/nonces.py); this table only carries the
# unexpired ones across a graceful restart, with a marker row that says the shutdown was clean.
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("credential_id", String(64), nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False, index=True),
)

# Per-user push-bombing state. Stored, so limits and lockouts survive restarts.
user_limits = Table(
    "user_limits",
    metadata,
    Column("user_id", String(128), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("locked_until_ms", BigInteger, nullable=True),  # lockout after repeated failures
    Column("locked_not_me", Boolean, nullable=False, default=False),  # until an operator unlocks
    Column("rate_strikes", Integer, nullable=False, default=0),
    Column("rate_blocked_until_ms", BigInteger, nullable=True),
    Column("window_start_ms", BigInteger, nullable=False, default=0),  # last approval or unlock
)

# The audit trail: append-only. The application only ever INSERTs; triggers refuse UPDATE and
# DELETE at the database too (see storage/audit_guard.py).
audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "event_id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("at_ms", BigInteger, nullable=False, index=True),
    Column("event", String(48), nullable=False),
    Column("user_id", String(128), nullable=True, index=True),
    Column("credential_id", String(64), nullable=True),
    Column("challenge_id", String(64), nullable=True),
    Column("action", String(64), nullable=True),
    Column("context_json", Text, nullable=True),  # the initiator context shown to the user
    Column("detail_json", Text, nullable=True),
    Column("receipt_json", Text, nullable=True),  # a signed response, verifiable again later
    # The hash chain (storage/audit_chain.py): the row's place in the chain, the previous row's
    # hash and this row's. Nullable: rows written before the chain existed have none.
    Column("seq", BigInteger, nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
    Index("ux_audit_events_seq", "seq", unique=True),
)

# Every origin this deployment has served under (devices sign it into each answer): receipts are
# verified under the origin they carry, and one this deployment never used is reported.
deployment_origins = Table(
    "deployment_origins",
    metadata,
    Column("origin", String(512), primary_key=True),
    Column("protocol_version", Integer, nullable=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("source", String(32), nullable=False),  # "served" or "legacy receipts"
)

# Relying-party applications (domain/apps): each has scopes, an optional user restriction and one
# or more API keys. The bootstrap key (PUSHAUTH_API_KEY) acts as the built-in "operator" app.
applications = Table(
    "applications",
    metadata,
    Column("app_id", String(40), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("scopes", String(128), nullable=False),  # space-separated, sorted
    Column("users_json", Text, nullable=True),  # JSON list of ids and * patterns; NULL: all users
    Column("created_at_ms", BigInteger, nullable=False),
    Column("last_used_at_ms", BigInteger, nullable=True),
    Column("revoked_at_ms", BigInteger, nullable=True),
)

# An application's API keys: only the SHA-256 of each key is stored. A rotated key keeps working
# until its expires_at_ms (the grace period), a revoked one stops at once.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=True),
    Column("revoked_at_ms", BigInteger, nullable=True),
)

# Webhook endpoints (domain/webhooks): an application's URLs, with the signing secret encrypted
# under a key derived from PUSHAUTH_SECRET (domain/webhooks/sealing.py), never in plaintext.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("events", String(512), nullable=True),  # " a b " (spaces around each); NULL: all
    Column("secret_sealed", String(256), nullable=False),
    Column("previous_secret_sealed", String(256), nullable=True),  # during a rotation's overlap
    Column("previous_until_ms", BigInteger, nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
)

# The outbox: one row per (event, endpoint), written in the transaction of the change it
# announces, delivered by a worker in every server process (domain/webhooks/worker.py).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(96), primary_key=True),  # the webhook-id header, stable
    Column("endpoint_id", String(40), nullable=False, index=True),
    Column("app_id", String(40), nullable=False),
    Column("event", String(48), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed, cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("next_attempt_at_ms", BigInteger, nullable=False),
    Column("retry_until_ms", BigInteger, nullable=False),  # then failed, if not delivered
    Column("lease_until_ms", BigInteger, nullable=True),  # claimed by a worker until then
    Column("leased_by", String(40), nullable=True),
    Column("last_attempt_at_ms", BigInteger, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("finished_at_ms", BigInteger, nullable=True),  # delivered, failed or cancelled
    Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at_ms"),
    Index("ix_webhook_deliveries_created", "created_at_ms"),
)
