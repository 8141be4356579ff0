"""Reading the audit trail, and verifying its signed receipts again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import ChallengeResponse, ChallengeStatus, judge_response, verify
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import audit_events, challenges, credentials


async def events(
    connection: Connection,
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

# Outcomes that only a signed device answer can produce: each must carry one that verifies.
_ANSWERED_EVENTS = {
    AuditEvent.CHALLENGE_APPROVED: ChallengeStatus.APPROVED,
    AuditEvent.CHALLENGE_DENIED: ChallengeStatus.DENIED,
    AuditEvent.CHALLENGE_NOT_ME: ChallengeStatus.DENIED,
}


def _message(receipt: dict[str, Any]) -> tuple[ChallengeResponse, str] | str:
    """The signed message and signature in ``receipt``, or what is wrong with it."""
    try:
        fields = {name: receipt[name] for name in RECEIPT_FIELDS}
        if not all(isinstance(fields[n], str) for n in RECEIPT_FIELDS if n != "expires_at_ms"):
            return "the receipt is malformed"
        if not isinstance(fields["expires_at_ms"], int) or not isinstance(
            receipt["signature"], str
        ):
            return "the receipt is malformed"
        return ChallengeResponse(**fields), receipt["signature"]
    except (KeyError, TypeError):
        return "the receipt is incomplete"


def _answer_problem(
    receipt: dict[str, Any] | None,
    keys: dict[str, str],
    challenge: Challenge | None,
    status: ChallengeStatus,
    reason: str | None,
) -> str | None:
    """Whether ``receipt`` is a valid signed answer that leads to ``status``/``reason``."""
    if receipt is None:
        return f"a {status.value} outcome without a signed answer"
    parsed = _message(receipt)
    if isinstance(parsed, str):
        return parsed
    message, signature = parsed
    key = keys.get(message.credential_id)
    if key is None:
        return f"unknown credential {message.credential_id}"
    if not verify(public_key=key, message=message, signature=signature):
        return "the signature does not verify"
    if challenge is None:
        return "no such challenge"
    if message.challenge_id != challenge.challenge_id:
        return "the signed challenge id differs from the row's"
    # Judge the signed answer again against the stored code: the outcome must follow from it.
    outcome = judge_response(
        response=message,
        expected_code=challenge.verification_code,
        number_matching=challenge.number_matching,
    )
    judged = outcome.reason.value if outcome.reason else None
    if outcome.status is not status or (reason is not None and judged != reason):
        return (
            f"recorded as {status.value}{f' ({reason})' if reason else ''} but the signed "
            f"answer means {outcome.status.value}{f' ({judged})' if judged else ''}"
        )
    return None


async def verify_receipts(connection: Connection, origin: str) -> tuple[int, list[Problem]]:
    """Re-check every answered challenge and every outcome in the audit trail.

    Every approved or denied challenge must carry a device signature that verifies and whose
    decision and typed code, judged again, give the recorded outcome; so must every approved,
    denied or reported row of the audit trail. Rows that cannot be read are reported, not fatal.

    The count is of signed responses, each once: a challenge's row and its audit event carry the
    same answer, so they count as one.
    """
    keys = {
        row.credential_id: row.public_key
        for row in await connection.execute(
            select(credentials.c.credential_id, credentials.c.public_key)
        )
    }
    problems: list[Problem] = []
    problem: str | None
    responses: set[str] = set()  # one key per signed response: its challenge id
    answered: dict[str, Challenge] = {}
    rows = await connection.execute(
        select(challenges).where(challenges.c.status.in_(["approved", "denied"]))
    )
    for row in rows:
        responses.add(f"challenge {row.challenge_id}")
        where = f"challenge {row.challenge_id}"
        try:
            challenge = Challenge.from_row(row)
        except (ValueError, TypeError, KeyError):
            problems.append(
                Problem(where=where, challenge_id=row.challenge_id, problem="unreadable")
            )
            continue
        answered[challenge.challenge_id] = challenge
        problem = _answer_problem(
            challenge.receipt(origin), keys, challenge, challenge.status, challenge.reason
        )
        if problem:
            problems.append(
                Problem(where=where, challenge_id=challenge.challenge_id, problem=problem)
            )
    rows = await connection.execute(
        select(audit_events).where(
            audit_events.c.event.in_([e.value for e in _ANSWERED_EVENTS])
            | audit_events.c.receipt_json.is_not(None)
        )
    )
    for row in rows:
        where = f"audit event {row.event_id}"
        responses.add(f"challenge {row.challenge_id}" if row.challenge_id else where)
        try:
            record = AuditRecord.from_row(row)
        except (ValueError, TypeError, KeyError):
            problems.append(
                Problem(where=where, challenge_id=row.challenge_id, problem="unreadable")
            )
            continue
        status = _ANSWERED_EVENTS.get(record.event)
        if status is None:
            problem = f"{record.event.value} should carry no signed answer"
        else:
            reason = "not_me" if record.event is AuditEvent.CHALLENGE_NOT_ME else None
            problem = _answer_problem(
                record.receipt, keys, answered.get(record.challenge_id or ""), status, reason
            )
        if problem:
            problems.append(Problem(where=where, challenge_id=record.challenge_id, problem=problem))
    return len(responses), problems
