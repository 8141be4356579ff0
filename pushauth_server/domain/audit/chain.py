"""Walking the audit trail's hash chain: broken links, deleted rows, rewritten rows, the head.

The chain is per deployment and in insertion order (``seq`` 1, 2, 3, ...); how each link is
computed is in :mod:`pushauth_server.storage.audit_chain`. What a walk can and cannot prove:

* a row whose content no longer matches its hash was **rewritten**;
* a row whose ``prev_hash`` is not the previous row's hash follows a **broken link** (a row was
  rewritten and its own hash recomputed, or rows were spliced in);
* a jump in ``seq`` means rows were **deleted** (a gap);
* a row without a place in the chain written after the chain began **bypassed** it.

Someone who rewrites a row *and recomputes every hash after it*, or deletes the newest rows,
leaves a chain that is consistent again. Only a head recorded elsewhere catches that:
``audit verify --since-head SEQ:HASH`` checks that the row at ``SEQ`` still has ``HASH``, which
(every link before it checked) proves that nothing up to it changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pushauth_server.storage.audit_chain import CONTENT_FIELDS, link_hash

_HEAD = re.compile(r"^([1-9][0-9]{0,18}):([0-9a-f]{64})$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Head:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH`` as ``pushauth audit head`` prints it; ``ValueError`` otherwise."""
        match = _HEAD.match(text.strip().lower())
        if match is None:
            raise ValueError("a head is SEQ:HASH, e.g. 42:<64 hex digits>")
        return cls(seq=int(match.group(1)), hash=match.group(2))


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainProblem:
    where: str
    problem: str
    challenge_id: str | None = None


@dataclass(kw_only=True)
class ChainReport:
    rows: int = 0  # rows with a place in the chain
    before_chain: int = 0  # rows written before this database had the chain
    head: Head | None = None
    problems: list[ChainProblem] = field(default_factory=list)


def _where(row: Any) -> str:
    return f"audit seq {row.seq} (event {row.event_id})"


def walk(rows: Sequence[Any], since: Head | None = None) -> ChainReport:
    """Check every link of the chain in ``rows`` (all audit rows, any order)."""
    report = ChainReport()
    chained = sorted((r for r in rows if r.seq is not None), key=lambda r: int(r.seq))
    unchained = [r for r in rows if r.seq is None]
    first_chained_id = min((int(r.event_id) for r in chained), default=None)
    for row in unchained:
        if first_chained_id is not None and int(row.event_id) > first_chained_id:
            report.problems.append(
                ChainProblem(
                    where=f"audit event {row.event_id}",
                    problem="written outside the hash chain after it began (the chain was "
                    "bypassed: a row inserted by hand or with the chain trigger off)",
                    challenge_id=row.challenge_id,
                )
            )
        else:
            report.before_chain += 1
    expected = 1
    previous: str | None = None
    for row in chained:
        seq = int(row.seq)
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
            report.problems.append(
                ChainProblem(
                    where=_where(row),
                    problem=f"rows {missing} of the chain are missing (deleted)",
                )
            )
        elif row.prev_hash != previous:  # (after a gap the link is broken by the deletion)
            report.problems.append(
                ChainProblem(
                    where=_where(row),
                    problem=f"broken link: this row does not follow seq {seq - 1} "
                    "(a row before it was rewritten, removed or inserted)",
                    challenge_id=row.challenge_id,
                )
            )
        content = {name: getattr(row, name) for name in CONTENT_FIELDS}
        if link_hash(seq, content, row.prev_hash) != row.row_hash:
            report.problems.append(
                ChainProblem(
                    where=_where(row),
                    problem="rewritten: the row's content does not match its hash",
                    challenge_id=row.challenge_id,
                )
            )
        previous = row.row_hash
        expected = seq + 1
        report.rows += 1
    if chained:
        report.head = Head(seq=int(chained[-1].seq), hash=str(chained[-1].row_hash))
    if since is not None:
        report.problems.extend(_since(chained, since))
    return report


def _since(chained: Sequence[Any], since: Head) -> list[ChainProblem]:
    at = [row for row in chained if int(row.seq) == since.seq]
    where = f"recorded head {since}"
    if not at:
        return [
            ChainProblem(
                where=where,
                problem=f"the chain has no row {since.seq} any more: rows were deleted since "
                "this head was recorded",
            )
        ]
    if at[0].row_hash != since.hash:
        return [
            ChainProblem(
                where=where,
                problem=f"row {since.seq} no longer has the recorded hash: the trail up to it "
                "was changed (and re-hashed) since this head was recorded",
            )
        ]
    return []
