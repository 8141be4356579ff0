"""Reading the audit trail, and verifying its signed receipts again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    ChallengeResponse,
    ChallengeStatus,
    judge_response,
    verify,
)
from pushauth_server.protocol.legacy import RESPONSE_BY_VERSION
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import audit_events


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


# Receipts carry the version they were signed under (none recorded means 1): devices sign
# version 3 now; answers signed before an upgrade stay verifiable under their own version.
_RESPONSE_BY_VERSION: dict[int, type[ChallengeResponse]] = {
    **RESPONSE_BY_VERSION,
    PROTOCOL_VERSION: ChallengeResponse,
}
SUPPORTED_RECEIPT_VERSIONS = frozenset(_RESPONSE_BY_VERSION)


def _message(receipt: dict[str, Any]) -> tuple[ChallengeResponse, str] | str:
    """The signed message and signature in ``receipt``, or what is wrong with it."""
    version = receipt.get("protocol_version", 1)  # receipts from before it was recorded: 1
    response = _RESPONSE_BY_VERSION.get(version) if isinstance(version, int) else None
    if response is None:
        return f"signed under protocol version {version!r}, which this server does not know"
    try:
        fields = {name: receipt[name] for name in RECEIPT_FIELDS}
        if not all(isinstance(fields[n], str) for n in RECEIPT_FIELDS if n != "expires_at_ms"):
            return "the receipt is malformed"
        if not isinstance(fields["expires_at_ms"], int) or not isinstance(
            receipt["signature"], str
        ):
            return "the receipt is malformed"
        return response(**fields), receipt["signature"]
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
    if outcome.status is not status or judged != reason:
        return (
            f"recorded as {status.value}{f' ({reason})' if reason else ''} but the signed "
            f"answer means {outcome.status.value}{f' ({judged})' if judged else ''}"
        )
    return None


def _signed_receipt(
    challenge: Challenge, keys: dict[str, str], origins: list[str]
) -> dict[str, Any] | None:
    """The challenge's receipt under the origin (of those this deployment used) and protocol
    version (a challenge row records neither) under which its signature verifies; or None."""
    key = keys.get(challenge.credential_id or "")
    for origin in origins:
        for version in sorted(_RESPONSE_BY_VERSION, reverse=True):
            receipt = challenge.receipt(origin, version) or {}
            parsed = _message(receipt)
            if isinstance(parsed, tuple) and key is not None:
                message, signature = parsed
                if verify(public_key=key, message=message, signature=signature):
                    return receipt
    return None


def _receipt_origin_problem(receipt: dict[str, Any], origins: Mapping[str, int]) -> str | None:
    origin = receipt.get("origin")
    if isinstance(origin, str) and origin not in origins:
        return f"signed for origin {origin}, which this deployment has never served under"
    return None


def check_receipts(
    challenge_rows: list[Challenge],
    records: list[AuditRecord],
    keys: dict[str, str],
    origins: Mapping[str, int],
) -> tuple[int, list[Problem]]:
    """Re-check every answered challenge and every outcome in the audit trail.

    Every approved or denied challenge must carry a device signature that verifies (under one of
    the origins this deployment has served under) and whose decision and typed code, judged
    again, give the recorded outcome; so must every approved, denied or reported row of the audit
    trail, under the origin its receipt carries, which must be one this deployment used.

    The count is of signed responses, each once: a challenge's row and its audit event carry the
    same answer, so they count as one.
    """
    problems: list[Problem] = []
    problem: str | None
    responses: set[str] = set()  # one key per signed response: its challenge id
    answered: dict[str, Challenge] = {}
    known = sorted(origins)
    for challenge in challenge_rows:
        if challenge.status not in (ChallengeStatus.APPROVED, ChallengeStatus.DENIED):
            continue
        responses.add(f"challenge {challenge.challenge_id}")
        answered[challenge.challenge_id] = challenge
        receipt = _signed_receipt(challenge, keys, known)
        if receipt is None and challenge.signature is not None:
            problem = (
                "the signature does not verify under any origin this deployment has served under"
                if challenge.credential_id in keys
                else f"unknown credential {challenge.credential_id}"
            )
        else:
            problem = _answer_problem(
                receipt or challenge.receipt(""),
                keys,
                challenge,
                challenge.status,
                challenge.reason,
            )
        if problem:
            problems.append(
                Problem(
                    where=f"challenge {challenge.challenge_id}",
                    challenge_id=challenge.challenge_id,
                    problem=problem,
                )
            )
    for record in records:
        status = _ANSWERED_EVENTS.get(record.event)
        if status is None and record.receipt is None:
            continue
        where = f"audit event {record.event_id}"
        responses.add(f"challenge {record.challenge_id}" if record.challenge_id else where)
        if status is None:
            problem = f"{record.event.value} should carry no signed answer"
        else:
            reason = (record.detail or {}).get("reason")
            if record.event is AuditEvent.CHALLENGE_NOT_ME:
                reason = "not_me"
            problem = _answer_problem(
                record.receipt, keys, answered.get(record.challenge_id or ""), status, reason
            )
            if problem is None and record.receipt is not None:
                problem = _receipt_origin_problem(record.receipt, origins)
        if problem:
            problems.append(Problem(where=where, challenge_id=record.challenge_id, problem=problem))
    return len(responses), problems
