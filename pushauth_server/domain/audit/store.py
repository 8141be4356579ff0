"""Reading the audit trail, and verifying its signed receipts again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import ChallengeResponse, verify
from pushauth_server.storage.tables import audit_events, challenges, credentials


async def events(
    connection: AsyncConnection,
    *,
    user_id: str | None = None,
    since_ms: int | None = None,
    after_id: int | None = None,
    limit: int = 500,
) -> list[AuditRecord]:
    query = select(audit_events).order_by(audit_events.c.event_id).limit(limit)
    if user_id is not None:
        query = query.where(audit_events.c.user_id == user_id)
    if since_ms is not None:
        query = query.where(audit_events.c.at_ms >= since_ms)
    if after_id is not None:
        query = query.where(audit_events.c.event_id > after_id)
    return [AuditRecord.from_row(row) for row in await connection.execute(query)]


@dataclass(frozen=True, kw_only=True)
class Problem:
    where: str
    challenge_id: str | None
    problem: str


RECEIPT_FIELDS = (
    "origin",
    "challenge_id",
    "nonce",
    "decision",
    "reason",
    "verification_code",
    "credential_id",
    "context_hash",
    "expires_at_ms",
)


def _receipt_problem(receipt: dict[str, object], keys: dict[str, str]) -> str | None:
    try:
        message = ChallengeResponse(**{name: receipt[name] for name in RECEIPT_FIELDS})  # type: ignore[arg-type]
        signature = str(receipt["signature"])
    except (KeyError, TypeError):
        return "the receipt is incomplete"
    key = keys.get(message.credential_id)
    if key is None:
        return f"unknown credential {message.credential_id}"
    if not verify(public_key=key, message=message, signature=signature):
        return "the signature does not verify"
    return None


_DECISION_OF = {
    AuditEvent.CHALLENGE_APPROVED: "approve",
    AuditEvent.CHALLENGE_NOT_ME: "deny",
}


async def verify_receipts(connection: AsyncConnection, origin: str) -> tuple[int, list[Problem]]:
    """Re-check every stored response signature (audit receipts and challenge records)."""
    keys = {
        row.credential_id: row.public_key
        for row in await connection.execute(
            select(credentials.c.credential_id, credentials.c.public_key)
        )
    }
    problems: list[Problem] = []
    checked = 0
    rows = await connection.execute(
        select(audit_events).where(audit_events.c.receipt_json.is_not(None))
    )
    for row in rows:
        record = AuditRecord.from_row(row)
        assert record.receipt is not None
        checked += 1
        where = f"audit event {record.event_id}"
        problem = _receipt_problem(record.receipt, keys)
        expected = _DECISION_OF.get(record.event)
        if problem is None and expected and record.receipt.get("decision") != expected:
            problem = (
                f"the event says {record.event.value} but the signed decision is not {expected}"
            )
        if problem is None and record.challenge_id != record.receipt.get("challenge_id"):
            problem = "the row's challenge id differs from the signed one"
        if problem:
            problems.append(Problem(where=where, challenge_id=record.challenge_id, problem=problem))
    answered = await connection.execute(
        select(challenges).where(challenges.c.signature.is_not(None))
    )
    for row in answered:
        checked += 1
        challenge = Challenge.from_row(row)
        receipt = challenge.receipt(origin)
        problem = _receipt_problem(receipt, keys) if receipt else "the response is incomplete"
        if challenge.decision not in ("approve", "deny"):
            problem = f"the stored decision {challenge.decision!r} is not a decision"
        elif challenge.status.value == "approved" and challenge.decision != "approve":
            problem = "the challenge is approved but the signed decision is a denial"
        if problem:
            problems.append(
                Problem(
                    where=f"challenge {challenge.challenge_id}",
                    challenge_id=challenge.challenge_id,
                    problem=problem,
                )
            )
    return checked, problems
