"""Challenge queries. Every transition out of ``pending`` is a compare-and-set.

Each statement here is built once, with bound parameters (building a statement costs about as
much as running it on SQLite), and each does as much of a step as one statement can: the create
step reads everything the limits need in one query, the answer step reads the challenge, the
answering credential and the user's limit row in one, and the answer itself is one ``UPDATE ...
RETURNING`` that also checks that the credential is not revoked and the challenge not expired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.limits.policy import LimitState
from pushauth_server.protocol import ChallengeStatus
from pushauth_server.storage import Connection
from pushauth_server.storage.audit_chain import CONTENT_FIELDS, SQLITE_INSERT
from pushauth_server.storage.tables import audit_events, challenges, credentials, user_limits

PENDING = ChallengeStatus.PENDING.value
APPROVED = ChallengeStatus.APPROVED.value

_C = challenges.c
_LIMIT_FIELDS = tuple(c.name for c in user_limits.c if c.name != "user_id")
_CREDENTIAL_FIELDS = tuple(c.name for c in credentials.c)

_GET = select(challenges).where(_C.challenge_id == bindparam("challenge_id"))
_PENDING_FOR_USER = (
    select(challenges)
    .where(
        _C.user_id == bindparam("user_id"),
        _C.status == PENDING,
        _C.expires_at_ms > bindparam("now_ms"),
    )
    .order_by(_C.created_at_ms)
)
_INSERT = insert(challenges)
_INSERT_AUDIT = SQLITE_INSERT  # the audit row, linked into the hash chain as it is inserted

# --- creating: one read for every rule ----------------------------------------------------------

_user = bindparam("user_id", type_=String)
_base = select(_user.label("uid")).subquery("base")
_last_approval = (
    select(func.max(_C.resolved_at_ms))
    .where(_C.user_id == _user, _C.status == APPROVED)
    .scalar_subquery()
)
_CREATE_FACTS = select(
    select(func.count())
    .select_from(credentials)
    .where(credentials.c.user_id == _user, credentials.c.revoked_at_ms.is_(None))
    .scalar_subquery()
    .label("devices"),
    select(func.count())
    .select_from(challenges)
    .where(_C.user_id == _user, _C.status == PENDING, _C.expires_at_ms > bindparam("now_ms"))
    .scalar_subquery()
    .label("pending"),
    # Of those, the ones another application created (a replacement does not cancel them).
    select(func.count())
    .select_from(challenges)
    .where(
        _C.user_id == _user,
        _C.status == PENDING,
        _C.expires_at_ms > bindparam("now_ms"),
        or_(_C.app_id.is_(None), _C.app_id != bindparam("app_id", type_=String)),
    )
    .scalar_subquery()
    .label("pending_of_others"),
    _last_approval.label("last_approval_ms"),
    # Challenges in the window: since the latest of (now - window), the last unlock, the last
    # approval (policy.window_since).
    select(func.count())
    .select_from(challenges)
    .where(
        _C.user_id == _user,
        _C.created_at_ms >= bindparam("window_floor_ms"),
        _C.created_at_ms >= func.coalesce(user_limits.c.window_start_ms, 0),
        _C.created_at_ms >= func.coalesce(_last_approval, 0),
    )
    .correlate(user_limits)
    .scalar_subquery()
    .label("recent"),
    *(user_limits.c[name].label(f"l_{name}") for name in _LIMIT_FIELDS),
    user_limits.c.user_id.label("l_user_id"),
).select_from(_base.outerjoin(user_limits, user_limits.c.user_id == _base.c.uid))

# Serialises creates for one user on PostgreSQL (SQLite has one writer): a transaction-scoped
# advisory lock, keyed by a constant for pushauth and the user id's hash. Nothing is written.
_LOCK_USER = text("SELECT pg_advisory_xact_lock(1886745448, hashtext(:user_id))")


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateFacts:
    devices: int
    pending: int
    pending_of_others: int  # of ``pending``, those another application created
    recent: int  # challenges created in the window (policy.window_since)
    limits: LimitState  # window_start_ms already cut at the last approval
    stored_limits: LimitState | None  # the row as stored, None when the user has none yet


def _limits(row: Any, user_id: str, prefix: str) -> LimitState | None:
    if getattr(row, f"{prefix}user_id") is None:
        return None
    return LimitState(
        user_id=user_id, **{name: getattr(row, f"{prefix}{name}") for name in _LIMIT_FIELDS}
    )


async def lock_user(connection: Connection, user_id: str) -> None:
    """On PostgreSQL, take the user's lock for the rest of the transaction."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_LOCK_USER, {"user_id": user_id})


async def create_facts(
    connection: Connection, user_id: str, now_ms: int, window_ms: int, app_id: str
) -> CreateFacts:
    """Devices, pending challenges and the limit state, in one statement.

    The limit window starts at the latest of the stored start (an unlock) and the user's last
    approval, read from the challenges themselves: an approval then needs no write to the limit
    row unless something else in it changes.
    """
    parameters = {
        "user_id": user_id,
        "now_ms": now_ms,
        "window_floor_ms": now_ms - window_ms,
        "app_id": app_id,
    }
    row = (await connection.execute(_CREATE_FACTS, parameters)).one()
    stored = _limits(row, user_id, "l_")
    limits = stored or LimitState(user_id=user_id)
    if row.last_approval_ms is not None and row.last_approval_ms > limits.window_start_ms:
        limits = replace(limits, window_start_ms=int(row.last_approval_ms))
    return CreateFacts(
        devices=int(row.devices),
        pending=int(row.pending),
        pending_of_others=int(row.pending_of_others),
        recent=int(row.recent),
        limits=limits,
        stored_limits=stored,
    )


async def add(connection: Connection, challenge: Challenge) -> None:
    await connection.execute(_INSERT, challenge.to_row())


# PostgreSQL takes the new challenge and its audit row in one statement (a data-modifying CTE);
# SQLite, which has none, in two.
_CHALLENGE_COLUMNS = tuple(c.name for c in challenges.c)
_AUDIT_COLUMNS = CONTENT_FIELDS  # the chain columns are filled by a trigger
_new = (
    insert(challenges)
    .values(
        {name: bindparam(f"c_{name}", type_=challenges.c[name].type) for name in _CHALLENGE_COLUMNS}
    )
    .returning(_C.challenge_id)
    .cte("new_challenge")
)
_INSERT_WITH_AUDIT = (
    insert(audit_events)
    .from_select(
        list(_AUDIT_COLUMNS),
        select(
            *(
                bindparam(f"a_{name}", type_=audit_events.c[name].type).label(name)
                for name in _AUDIT_COLUMNS
            )
        ).select_from(_new),
    )
    .returning(audit_events.c.event_id)
)


async def add_with_audit(
    connection: Connection, challenge: Challenge, audit_row: dict[str, Any]
) -> int:
    """Insert ``challenge`` and its audit row (``AuditRecord.to_row()``); returns the row's id."""
    if connection.dialect.name != "postgresql":
        await add(connection, challenge)
        result = await connection.execute(_INSERT_AUDIT, audit_row)
        return int(result.scalar_one())
    parameters = {f"c_{name}": value for name, value in challenge.to_row().items()}
    parameters.update({f"a_{name}": audit_row[name] for name in _AUDIT_COLUMNS})
    return int((await connection.execute(_INSERT_WITH_AUDIT, parameters)).scalar_one())


async def get(connection: Connection, challenge_id: str) -> Challenge | None:
    row = (await connection.execute(_GET, {"challenge_id": challenge_id})).first()
    return Challenge.from_row(row) if row else None


async def pending_for_user(connection: Connection, user_id: str, now_ms: int) -> list[Challenge]:
    rows = await connection.execute(_PENDING_FOR_USER, {"user_id": user_id, "now_ms": now_ms})
    return [Challenge.from_row(row) for row in rows]


_CANCEL_PENDING = (
    update(challenges)
    .where(
        _C.user_id == bindparam("b_user_id"),
        _C.status == PENDING,
        _C.expires_at_ms > bindparam("now_ms"),
    )
    .values(status=ChallengeStatus.CANCELLED.value, resolved_at_ms=bindparam("now_ms"))
    .returning(*challenges.c)
)
_CANCEL_OWN_PENDING = _CANCEL_PENDING.where(_C.app_id == bindparam("b_app_id"))


async def cancel_pending(
    connection: Connection, user_id: str, now_ms: int, *, app_id: str | None = None
) -> list[Challenge]:
    """Cancel the user's pending challenges (a replacement); only those ``app_id`` created, if
    given. Returns those this call cancelled."""
    if app_id is None:
        rows = await connection.execute(_CANCEL_PENDING, {"b_user_id": user_id, "now_ms": now_ms})
    else:
        rows = await connection.execute(
            _CANCEL_OWN_PENDING, {"b_user_id": user_id, "now_ms": now_ms, "b_app_id": app_id}
        )
    return sorted((Challenge.from_row(row) for row in rows), key=lambda c: c.created_at_ms)


# --- reading: a challenge with the name of the device that answered it ---------------------------

_WITH_DEVICE = (
    select(challenges, credentials.c.name.label("device_name"))
    .select_from(challenges.outerjoin(credentials, credentials.c.credential_id == _C.credential_id))
    .where(_C.challenge_id == bindparam("challenge_id"))
)


async def get_with_device(
    connection: Connection, challenge_id: str
) -> tuple[Challenge, str | None] | None:
    row = (await connection.execute(_WITH_DEVICE, {"challenge_id": challenge_id})).first()
    return (Challenge.from_row(row), row.device_name) if row else None


# --- a device's view: its credential and its user's pending challenges, in one read -------------

_CREDENTIAL_AND_PENDING = (
    select(*(credentials.c[name].label(f"cr_{name}") for name in _CREDENTIAL_FIELDS), challenges)
    .select_from(
        credentials.outerjoin(
            challenges,
            and_(
                _C.user_id == credentials.c.user_id,
                _C.status == PENDING,
                _C.expires_at_ms > bindparam("now_ms"),
            ),
        )
    )
    .where(credentials.c.credential_id == bindparam("credential_id"))
    .order_by(_C.created_at_ms)
)


async def credential_and_pending(
    connection: Connection, credential_id: str, now_ms: int
) -> tuple[Credential, list[Challenge]] | None:
    """The credential and its user's pending challenges (oldest first); None: no credential."""
    rows = (
        await connection.execute(
            _CREDENTIAL_AND_PENDING, {"credential_id": credential_id, "now_ms": now_ms}
        )
    ).all()
    if not rows:
        return None
    first = rows[0]
    credential = Credential(**{name: getattr(first, f"cr_{name}") for name in _CREDENTIAL_FIELDS})
    pending = [Challenge.from_row(row) for row in rows if row.challenge_id is not None]
    return credential, pending


# --- answering: one read, one compare-and-set ---------------------------------------------------

_ANSWER_FACTS = (
    select(
        *(credentials.c[name].label(f"cr_{name}") for name in _CREDENTIAL_FIELDS),
        challenges,
        *(user_limits.c[name].label(f"l_{name}") for name in _LIMIT_FIELDS),
        user_limits.c.user_id.label("l_user_id"),
    )
    .select_from(
        credentials.outerjoin(challenges, _C.challenge_id == bindparam("challenge_id")).outerjoin(
            user_limits, user_limits.c.user_id == _C.user_id
        )
    )
    .where(credentials.c.credential_id == bindparam("credential_id"))
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerFacts:
    credential: Credential
    challenge: Challenge | None
    limits: LimitState | None  # the challenge's user's stored limit row, if any


async def answer_facts(
    connection: Connection, challenge_id: str, credential_id: str
) -> AnswerFacts | None:
    """The answering credential, the challenge and its user's limit row; None: no credential."""
    row = (
        await connection.execute(
            _ANSWER_FACTS, {"challenge_id": challenge_id, "credential_id": credential_id}
        )
    ).first()
    if row is None:
        return None
    credential = Credential(**{name: getattr(row, f"cr_{name}") for name in _CREDENTIAL_FIELDS})
    if row.challenge_id is None:
        return AnswerFacts(credential=credential, challenge=None, limits=None)
    challenge = Challenge.from_row(row)
    return AnswerFacts(
        credential=credential,
        challenge=challenge,
        limits=_limits(row, challenge.user_id, "l_"),
    )


_ANSWER = (
    update(challenges)
    .where(
        _C.challenge_id == bindparam("b_challenge_id"),
        _C.status == PENDING,
        _C.expires_at_ms > bindparam("b_now_ms"),
        # Revocation wins over an answer that was in flight when it happened.
        exists().where(
            and_(
                credentials.c.credential_id == bindparam("b_credential_id"),
                credentials.c.revoked_at_ms.is_(None),
            )
        ),
    )
    .values(
        status=bindparam("v_status"),
        reason=bindparam("v_reason"),
        resolved_at_ms=bindparam("b_now_ms"),
        credential_id=bindparam("b_credential_id"),
        decision=bindparam("v_decision"),
        response_reason=bindparam("v_response_reason"),
        response_code=bindparam("v_response_code"),
        signature=bindparam("v_signature"),
    )
    .returning(*challenges.c)
)


async def answer(
    connection: Connection,
    challenge_id: str,
    *,
    status: ChallengeStatus,
    reason: str | None,
    now_ms: int,
    credential_id: str,
    decision: str,
    response_reason: str,
    response_code: str,
    signature: str,
) -> Challenge | None:
    """Record a device's answer if the challenge is still pending and unexpired at ``now_ms`` and
    the credential is not revoked. Returns it if this call won, ``None`` otherwise."""
    row = (
        await connection.execute(
            _ANSWER,
            {
                "b_challenge_id": challenge_id,
                "b_now_ms": now_ms,
                "b_credential_id": credential_id,
                "v_status": status.value,
                "v_reason": reason,
                "v_decision": decision,
                "v_response_reason": response_reason,
                "v_response_code": response_code,
                "v_signature": signature,
            },
        )
    ).first()
    return Challenge.from_row(row) if row else None


async def resolve(
    connection: Connection,
    challenge_id: str,
    status: ChallengeStatus,
    *,
    unexpired_at: int | None = None,
    **values: Any,
) -> Challenge | None:
    """Move a pending challenge to ``status``. Returns it if this call won, ``None`` otherwise.

    With ``unexpired_at``, only if it has not expired by then (an answer must beat the expiry).
    """
    query = update(challenges).where(_C.challenge_id == challenge_id, _C.status == PENDING)
    if unexpired_at is not None:
        query = query.where(_C.expires_at_ms > unexpired_at)
    result = await connection.execute(
        query.values(status=status.value, **values).returning(*challenges.c)
    )
    row = result.first()
    return Challenge.from_row(row) if row else None


# --- expiring: one statement per sweep ----------------------------------------------------------

_NEXT_EXPIRY = select(func.min(_C.expires_at_ms)).where(_C.status == PENDING)
_EXPIRE_DUE = (
    update(challenges)
    .where(_C.status == PENDING, _C.expires_at_ms <= bindparam("b_now_ms"))
    .values(status=ChallengeStatus.EXPIRED.value, resolved_at_ms=bindparam("b_now_ms"))
    .returning(*challenges.c)
)


_EXPIRE_ONE = (
    update(challenges)
    .where(
        _C.challenge_id == bindparam("b_challenge_id"),
        _C.status == PENDING,
        _C.expires_at_ms <= bindparam("b_now_ms"),
    )
    .values(status=ChallengeStatus.EXPIRED.value, resolved_at_ms=bindparam("b_now_ms"))
    .returning(*challenges.c)
)


async def expire_one(connection: Connection, challenge_id: str, now_ms: int) -> Challenge | None:
    """Expire this challenge if it is pending and due; returns it if this call did."""
    row = (
        await connection.execute(_EXPIRE_ONE, {"b_challenge_id": challenge_id, "b_now_ms": now_ms})
    ).first()
    return Challenge.from_row(row) if row else None


async def next_expiry(connection: Connection) -> int | None:
    """When the earliest pending challenge expires (a read: the idle sweep writes nothing)."""
    value = (await connection.execute(_NEXT_EXPIRY)).scalar_one()
    return None if value is None else int(value)


async def expire_due(connection: Connection, now_ms: int) -> list[Challenge]:
    result = await connection.execute(_EXPIRE_DUE, {"b_now_ms": now_ms})
    return sorted((Challenge.from_row(row) for row in result), key=lambda c: c.user_id)
