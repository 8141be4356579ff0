"""The audit trail's hash chain: every row carries its place, the previous row's hash and its own.

**Format (chain version 1).** A row's hash is the hex SHA-256 of

    b"pushauth\\x00" || 0x01 || b"audit-row" || 0x00 || fields

where each field present is ``u16 len(name) || name || u32 len(value) || value`` (big-endian,
UTF-8; integers in decimal), in this order: ``seq``, ``at_ms``, ``event``, ``user_id``,
``credential_id``, ``challenge_id``, ``action``, ``context_json``, ``detail_json``,
``receipt_json``, ``prev_hash``. A NULL column is left out (its name is then absent, so it can
never be confused with an empty value). This is the layout of the protocol's canonical encoder
(:mod:`pushauth_server.protocol.encoding`) with its own kind label and version byte, kept here so
that a protocol change can never silently change how old rows hash.

**Who computes it, without adding a statement to any write:**

* SQLite: the audit ``INSERT`` itself reads the chain head in a sub-select and calls
  ``pushauth_audit_link()``, a Python function registered on every connection
  (:func:`register_sqlite_function`). Writers hold SQLite's write lock (``BEGIN IMMEDIATE``), so
  the head cannot move under them, in this process or another; a rolled-back transaction takes
  its links with it.
* PostgreSQL: a ``BEFORE INSERT`` trigger computes the same bytes with the built-in ``sha256()``
  under a transaction-scoped advisory lock, so writers in every process form one chain.

``seq`` is unique; ``event_id`` is not part of the chain (a PostgreSQL sequence may skip values).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

CHAIN_VERSION = 1
_HEADER = b"pushauth\x00" + bytes([CHAIN_VERSION]) + b"audit-row\x00"
CONTENT_FIELDS = (
    "at_ms",
    "event",
    "user_id",
    "credential_id",
    "challenge_id",
    "action",
    "context_json",
    "detail_json",
    "receipt_json",
)
# The two-argument advisory locks (per user) live in another key space: these never collide.
ADVISORY_LOCK_KEY = 7_022_389_457_113_260_401


def _field(name: str, value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bool):
        raise TypeError("booleans are not a chain field type")
    data = str(value).encode("utf-8")  # integers in decimal, text as it is stored
    label = name.encode("utf-8")
    return struct.pack(">H", len(label)) + label + struct.pack(">I", len(data)) + data


def link_hash(seq: int, content: Mapping[str, Any], prev_hash: str | None) -> str:
    """The hash of the row at ``seq`` with ``content`` (columns as stored) after ``prev_hash``."""
    parts = [_HEADER, _field("seq", seq)]
    parts.extend(_field(name, content.get(name)) for name in CONTENT_FIELDS)
    parts.append(_field("prev_hash", prev_hash))
    return hashlib.sha256(b"".join(parts)).hexdigest()


# --- SQLite: one INSERT that links itself ---------------------------------------------------------

_COLUMNS = ", ".join(CONTENT_FIELDS)
_PARAMS = ", ".join(f":{name}" for name in CONTENT_FIELDS)
_HEAD = "SELECT {what} FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
SQLITE_INSERT = text(
    f"INSERT INTO audit_events ({_COLUMNS}, seq, prev_hash, row_hash) "  # noqa: S608 - constants
    f"SELECT {_PARAMS}, head.seq, head.prev, "
    f"pushauth_audit_link(head.seq, {_PARAMS}, head.prev) "
    f"FROM (SELECT coalesce(({_HEAD.format(what='seq')}), 0) + 1 AS seq, "
    f"({_HEAD.format(what='row_hash')}) AS prev) AS head "
    "RETURNING event_id"
)


def _sqlite_link(seq: int, *values: Any) -> str:
    *content, prev = values
    return link_hash(seq, dict(zip(CONTENT_FIELDS, content, strict=True)), prev)


def register_sqlite_function(dbapi_connection: Any) -> None:
    """Make ``pushauth_audit_link(seq, <content...>, prev_hash)`` available on a connection."""
    dbapi_connection.create_function(
        "pushauth_audit_link", len(CONTENT_FIELDS) + 2, _sqlite_link, deterministic=True
    )


# --- PostgreSQL: a trigger that computes the same bytes -------------------------------------------

_PG_FIELDS = " || ".join(
    [
        "'\\x" + _HEADER.hex() + "'::bytea",
        "pushauth_audit_field('seq', NEW.seq::text)",
        *(f"pushauth_audit_field('{name}', NEW.{name}::text)" for name in CONTENT_FIELDS),
        "pushauth_audit_field('prev_hash', NEW.prev_hash)",
    ]
)
POSTGRES_DDL = [
    "CREATE OR REPLACE FUNCTION pushauth_audit_field(name text, value text) RETURNS bytea "
    "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN value IS NULL THEN ''::bytea ELSE "
    "int2send(octet_length(convert_to(name, 'UTF8'))::int2) || convert_to(name, 'UTF8') || "
    "int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8') END $$",
    "CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
    "DECLARE last_seq bigint; last_hash text; "
    f"BEGIN PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY}); "
    "SELECT seq, row_hash INTO last_seq, last_hash FROM audit_events "
    "WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1; "
    "NEW.seq := coalesce(last_seq, 0) + 1; NEW.prev_hash := last_hash; "
    f"NEW.row_hash := encode(sha256({_PG_FIELDS}), 'hex'); "
    "RETURN NEW; END $$",
    "CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_chain()",
]
