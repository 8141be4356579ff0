"""``audit verify``: the hash chain, the signed receipts, and the audit trail against the state.

Three independent checks over one read of the audit trail, the challenges and the credentials:

1. the **chain** (:mod:`.chain`): rewritten, deleted or unchained rows; optionally against a head
   recorded earlier;
2. the **receipts** (:func:`.store.check_receipts`): every answered outcome carries a device
   signature that verifies under an origin this deployment used and judges to that outcome;
3. the **state** (:func:`cross_check`): every challenge has exactly the audit rows its state
   requires and they agree with it; every approval came from a credential enrolled (audited)
   before it and not revoked then, before the challenge expired; an empty audit trail while
   challenges exist is itself a finding.

It reads everything into memory: fine for millions of rows, not for billions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from pushauth_server.domain.audit import origins as origin_store
from pushauth_server.domain.audit.chain import ChainReport, Head, walk
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.audit.store import Problem, check_receipts
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.protocol import ChallengeStatus
from pushauth_server.storage import Connection
from pushauth_server.storage.tables import audit_events, challenges, credentials

_OUTCOME_EVENTS = {
    AuditEvent.CHALLENGE_APPROVED,
    AuditEvent.CHALLENGE_DENIED,
    AuditEvent.CHALLENGE_NOT_ME,
    AuditEvent.CHALLENGE_EXPIRED,
    AuditEvent.CHALLENGE_CANCELLED,
}


def expected_event(challenge: Challenge) -> AuditEvent | None:
    """The audit row a challenge's state requires (None: still pending)."""
    match challenge.status:
        case ChallengeStatus.APPROVED:
            return AuditEvent.CHALLENGE_APPROVED
        case ChallengeStatus.DENIED:
            if challenge.reason == "not_me":
                return AuditEvent.CHALLENGE_NOT_ME
            return AuditEvent.CHALLENGE_DENIED
        case ChallengeStatus.EXPIRED:
            return AuditEvent.CHALLENGE_EXPIRED
        case ChallengeStatus.CANCELLED:
            return AuditEvent.CHALLENGE_CANCELLED
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Credential:
    created_at_ms: int
    revoked_at_ms: int | None


def _approval_problems(
    challenge: Challenge,
    enrolled: dict[str, int],
    revoked: dict[str, int],
    stored: dict[str, _Credential],
) -> list[str]:
    problems: list[str] = []
    credential_id = challenge.credential_id or ""
    answered = challenge.resolved_at_ms
    if answered is None or answered >= challenge.expires_at_ms:
        problems.append("approved after the challenge had expired")
    when = answered if answered is not None else challenge.expires_at_ms
    enrolled_at = enrolled.get(credential_id)
    if enrolled_at is None:
        problems.append(
            f"approved by credential {credential_id}, whose enrollment is not in the audit trail"
        )
    elif enrolled_at > when:
        problems.append(f"approved by credential {credential_id} before it was enrolled")
    revoked_at = revoked.get(credential_id)
    row = stored.get(credential_id)
    if row is not None and row.revoked_at_ms is not None:
        revoked_at = min(revoked_at or row.revoked_at_ms, row.revoked_at_ms)
    if revoked_at is not None and revoked_at <= when:
        problems.append(f"approved by credential {credential_id} after it was revoked")
    return problems


def cross_check(
    challenge_rows: list[Challenge],
    records: list[AuditRecord],
    stored: dict[str, _Credential],
) -> list[Problem]:
    """The audit trail against the challenges and credentials (see the module docstring)."""
    problems: list[Problem] = []
    if not records and challenge_rows:
        problems.append(
            Problem(
                where="audit trail",
                challenge_id=None,
                problem=f"the audit trail is empty but {len(challenge_rows)} challenges exist",
            )
        )
    created: dict[str, int] = defaultdict(int)
    outcomes: dict[str, list[AuditRecord]] = defaultdict(list)
    enrolled: dict[str, int] = {}
    revoked: dict[str, int] = {}
    for record in records:
        if record.event is AuditEvent.CHALLENGE_CREATED and record.challenge_id:
            created[record.challenge_id] += 1
        elif record.event in _OUTCOME_EVENTS and record.challenge_id:
            outcomes[record.challenge_id].append(record)
        elif record.event is AuditEvent.DEVICE_ENROLLED and record.credential_id:
            enrolled.setdefault(record.credential_id, record.at_ms)
        elif record.event is AuditEvent.DEVICE_REVOKED and record.credential_id:
            revoked.setdefault(record.credential_id, record.at_ms)
    known = {challenge.challenge_id for challenge in challenge_rows}
    for challenge in challenge_rows:
        found = _challenge_problems(challenge, created, outcomes, enrolled, revoked, stored)
        problems.extend(
            Problem(
                where=f"challenge {challenge.challenge_id}",
                challenge_id=challenge.challenge_id,
                problem=problem,
            )
            for problem in found
        )
    for challenge_id, rows in outcomes.items():
        if challenge_id not in known:
            problems.extend(
                Problem(
                    where=f"audit event {row.event_id}",
                    challenge_id=challenge_id,
                    problem=f"{row.event.value} for a challenge that does not exist",
                )
                for row in rows
            )
    return problems


def _challenge_problems(
    challenge: Challenge,
    created: dict[str, int],
    outcomes: dict[str, list[AuditRecord]],
    enrolled: dict[str, int],
    revoked: dict[str, int],
    stored: dict[str, _Credential],
) -> list[str]:
    problems: list[str] = []
    challenge_id = challenge.challenge_id
    if created.get(challenge_id, 0) != 1:
        problems.append(
            f"{created.get(challenge_id, 0)} challenge.created rows in the audit trail, not 1"
        )
    rows = outcomes.get(challenge_id, [])
    expected = expected_event(challenge)
    state = challenge.status.value + (f" ({challenge.reason})" if challenge.reason else "")
    if expected is None:
        problems.extend(f"pending, but the audit trail records {r.event.value}" for r in rows)
        return problems
    if len(rows) != 1:
        problems.append(
            f"{state}: needs exactly one {expected.value} row in the audit trail, found "
            + (", ".join(r.event.value for r in rows) or "none")
        )
        return problems
    [row] = rows
    if row.event is not expected:
        problems.append(f"the challenge says {state} but the audit trail says {row.event.value}")
    reason = (row.detail or {}).get("reason")
    if reason != challenge.reason:
        problems.append(
            f"the reason differs: the challenge says {challenge.reason!r}, its audit row {reason!r}"
        )
    if row.credential_id != challenge.credential_id:
        problems.append(
            f"the answering credential differs: the challenge says {challenge.credential_id!r}, "
            f"its audit row {row.credential_id!r}"
        )
    if challenge.status is ChallengeStatus.APPROVED:
        problems.extend(_approval_problems(challenge, enrolled, revoked, stored))
    if row.at_ms >= challenge.expires_at_ms and challenge.status is ChallengeStatus.APPROVED:
        problems.append("its audit row records the approval after the challenge expired")
    return problems


@dataclass(kw_only=True)
class Report:
    checked: int = 0  # signed responses checked
    problems: list[Problem] = field(default_factory=list)
    chain: ChainReport = field(default_factory=ChainReport)

    @property
    def valid(self) -> bool:
        return not self.problems


def _records(rows: list[Any], problems: list[Problem]) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for row in rows:
        try:
            records.append(AuditRecord.from_row(row))
        except (ValueError, TypeError, KeyError):
            problems.append(
                Problem(
                    where=f"audit event {row.event_id}",
                    challenge_id=row.challenge_id,
                    problem="unreadable",
                )
            )
    return records


def _challenges(rows: list[Any], problems: list[Problem]) -> list[Challenge]:
    found: list[Challenge] = []
    for row in rows:
        try:
            found.append(Challenge.from_row(row))
        except (ValueError, TypeError, KeyError):
            problems.append(
                Problem(
                    where=f"challenge {row.challenge_id}",
                    challenge_id=row.challenge_id,
                    problem="unreadable",
                )
            )
    return found


async def run(connection: Connection, *, current_origin: str, since: Head | None = None) -> Report:
    """Every check, over one read of the audit trail, the challenges and the credentials."""
    audit_rows = list(await connection.execute(select(audit_events)))
    challenge_rows = list(await connection.execute(select(challenges)))
    credential_rows = list(await connection.execute(select(credentials)))
    origins = await origin_store.known(connection)
    origins.setdefault(current_origin, 1)
    report = Report()
    report.chain = walk(audit_rows, since)
    report.problems.extend(
        Problem(where=p.where, challenge_id=p.challenge_id, problem=p.problem)
        for p in report.chain.problems
    )
    records = _records(audit_rows, report.problems)
    found = _challenges(challenge_rows, report.problems)
    keys = {row.credential_id: row.public_key for row in credential_rows}
    stored = {
        row.credential_id: _Credential(
            created_at_ms=row.created_at_ms, revoked_at_ms=row.revoked_at_ms
        )
        for row in credential_rows
    }
    checked, receipt_problems = check_receipts(found, records, keys, origins)
    report.checked = checked  # signed responses, each once; the chain's rows are in report.chain
    report.problems.extend(receipt_problems)
    report.problems.extend(cross_check(found, records, stored))
    return report
