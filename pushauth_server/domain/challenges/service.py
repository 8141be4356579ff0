"""Creating, answering, cancelling and expiring challenges.

The rules that make the flow safe live here, each next to the attack it stops. State changes are
compare-and-set updates (``store.resolve``), so of any number of concurrent answers, cancels and
expiries exactly one takes effect and the others see ``challenge_not_pending``. Every change is
written to the audit trail and to the user's limit state in the same transaction.
"""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from pushauth_server import errors
from pushauth_server.clock import iso, new_id, new_nonce, now_ms
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges import store
from pushauth_server.domain.challenges.models import Challenge, context_dict
from pushauth_server.domain.challenges.schemas import CreateChallengeIn, device_challenge_out
from pushauth_server.domain.devices import store as device_store
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.limits import policy
from pushauth_server.domain.limits import store as limits_store
from pushauth_server.protocol import (
    ChallengeContext,
    ChallengeStatus,
    Decision,
    DenialReason,
    DenyReason,
    judge_response,
    new_verification_code,
    verify,
)
from pushauth_server.realtime import Notifier, challenge_channel, user_channel
from pushauth_server.settings import Settings
from pushauth_server.storage import Database

_OUTCOME_EVENTS = {
    ChallengeStatus.APPROVED: AuditEvent.CHALLENGE_APPROVED,
    ChallengeStatus.DENIED: AuditEvent.CHALLENGE_DENIED,
    ChallengeStatus.EXPIRED: AuditEvent.CHALLENGE_EXPIRED,
    ChallengeStatus.CANCELLED: AuditEvent.CHALLENGE_CANCELLED,
}


def _record(event: AuditEvent, challenge: Challenge, **fields: object) -> AuditRecord:
    return AuditRecord(
        event=event,
        user_id=challenge.user_id,
        challenge_id=challenge.challenge_id,
        action=challenge.action,
        context=context_dict(challenge.context),
        **fields,  # type: ignore[arg-type]
    )


class ChallengeService:
    def __init__(
        self, database: Database, settings: Settings, notifier: Notifier, audit: AuditLog
    ) -> None:
        self._db = database
        self._settings = settings
        self._notifier = notifier
        self._audit = audit

    def _new_challenge(self, request: CreateChallengeIn) -> Challenge:
        settings = self._settings
        ttl = request.expires_in_seconds or settings.challenge_ttl_seconds
        if ttl > settings.challenge_ttl_max_seconds:
            raise errors.InvalidTimeout(
                f"expires_in_seconds may be at most {settings.challenge_ttl_max_seconds:g}.",
                max_seconds=settings.challenge_ttl_max_seconds,
            )
        # Plain approve/deny lets a tired user approve an attacker's push; only where allowed.
        if not request.number_matching and not settings.allow_plain_approval:
            raise errors.NumberMatchingRequired(
                "This server requires number matching; plain approval is turned off "
                "(PUSHAUTH_ALLOW_PLAIN_APPROVAL)."
            )
        created = now_ms()
        context = request.context
        return Challenge(
            challenge_id=new_id("ch"),
            user_id=request.user_id,
            action=request.action,
            context=ChallengeContext(
                user_id=request.user_id,
                action=request.action,
                created_at_ms=created,
                note=context.note,
                initiator_host=context.initiator_host,
                initiator_ip=context.initiator_ip,
                initiator_user_agent=context.initiator_user_agent,
                custom=ChallengeContext.custom_items(context.custom),
            ),
            nonce=new_nonce(),
            verification_code=new_verification_code(settings.verification_code_digits),
            number_matching=request.number_matching,
            status=ChallengeStatus.PENDING,
            reason=None,
            created_at_ms=created,
            expires_at_ms=created + round(ttl * 1000),
        )

    async def create(self, request: CreateChallengeIn) -> tuple[Challenge, int]:
        challenge = self._new_challenge(request)
        now = challenge.created_at_ms
        records: list[AuditRecord] = []
        replaced: list[Challenge] = []
        refusal: policy.Refusal | None = None
        async with self._db.write() as connection:
            devices = await device_store.count_active(connection, request.user_id)
            if devices == 0:
                raise errors.NoEnrolledDevice(
                    f"User {request.user_id!r} has no enrolled device. "
                    f"Enroll one first: pushauth enroll {request.user_id}",
                    user_id=request.user_id,
                )
            state = await limits_store.load_for_update(connection, request.user_id)
            since = policy.window_since(state, now_ms=now, settings=self._settings)
            pending = await store.pending_for_user(connection, request.user_id, now)
            refusal = policy.check_create(
                state,
                recent=await store.count_since(connection, request.user_id, since),
                pending=len(pending),
                replace_pending=request.replace_pending,
                now_ms=now,
                settings=self._settings,
            )
            if refusal is not None:
                # A refused challenge is recorded and sends nothing to any device.
                await limits_store.save(connection, refusal.state)
                detail = {"reason": refusal.reason, "code": refusal.error.code}
                detail.update({k: v for k, v in refusal.error.details.items() if k == "until"})
                refused = _record(AuditEvent.CHALLENGE_REFUSED, challenge, detail=detail)
                records.append(await audit_log.append(connection, refused))
            else:
                for old in pending:  # replace_pending: never two at once on the device
                    won = await store.resolve(
                        connection, old.challenge_id, ChallengeStatus.CANCELLED, resolved_at_ms=now
                    )
                    if won is not None:
                        replaced.append(won)
                        records.extend(
                            await self._settle(
                                connection, won, replaced_by=challenge.challenge_id, state=state
                            )
                        )
                await store.add(connection, challenge)
                records.append(
                    await audit_log.append(
                        connection, _record(AuditEvent.CHALLENGE_CREATED, challenge)
                    )
                )
        await self._audit.publish(records)
        if refusal is not None:
            raise refusal.error
        for old in replaced:
            await self._announce(old)
        await self._notifier.publish(
            {
                "type": "challenge",
                "challenge": msgspec.to_builtins(device_challenge_out(challenge)),
            },
            user_channel(challenge.user_id),
        )
        return challenge, devices

    async def get(self, challenge_id: str) -> Challenge:
        async with self._db.read() as connection:
            challenge = await store.get(connection, challenge_id)
        if challenge is None:
            raise errors.ChallengeNotFound(
                f"No challenge has id {challenge_id!r}.", challenge_id=challenge_id
            )
        if challenge.status is ChallengeStatus.PENDING and challenge.expires_at_ms <= now_ms():
            return await self.expire_if_due(challenge)
        return challenge

    async def credential_for(self, challenge: Challenge) -> Credential | None:
        if challenge.credential_id is None:
            return None
        async with self._db.read() as connection:
            return await device_store.get(connection, challenge.credential_id)

    async def pending_for_user(self, user_id: str) -> list[Challenge]:
        async with self._db.read() as connection:
            return await store.pending_for_user(connection, user_id, now_ms())

    async def cancel(self, challenge_id: str) -> Challenge:
        challenge = await self.get(challenge_id)
        return await self._resolve(challenge, ChallengeStatus.CANCELLED, resolved_at_ms=now_ms())

    async def expire_if_due(self, challenge: Challenge) -> Challenge:
        """Expire ``challenge`` if its time is up (server time); returns its current state."""
        now = now_ms()
        if challenge.status is not ChallengeStatus.PENDING or challenge.expires_at_ms > now:
            return challenge
        records: list[AuditRecord] = []
        async with self._db.write() as connection:
            # Lock order everywhere: the user's limit row first, then the challenge.
            state = await limits_store.load_for_update(connection, challenge.user_id)
            won = await store.resolve(
                connection, challenge.challenge_id, ChallengeStatus.EXPIRED, resolved_at_ms=now
            )
            if won is not None:
                records = await self._settle(connection, won, state=state)
            current = won or await store.get(connection, challenge.challenge_id)
        await self._after_commit(won, records)
        assert current is not None
        return current

    async def expire_due(self) -> list[Challenge]:
        records: list[AuditRecord] = []
        async with self._db.write() as connection:
            now = now_ms()
            for user_id in await store.users_with_due(connection, now):
                await limits_store.load_for_update(connection, user_id)  # lock order: users first
            expired = await store.expire_due(connection, now)
            for challenge in expired:
                records.extend(await self._settle(connection, challenge))
        await self._audit.publish(records)
        for challenge in expired:
            await self._announce(challenge)
        return expired

    async def respond(
        self,
        *,
        challenge_id: str,
        credential: Credential,
        decision: Decision,
        reason: DenyReason,
        verification_code: str,
        signature: str,
    ) -> Challenge:
        challenge = await self.get(challenge_id)
        # A device may only answer its own user's challenges.
        if credential.user_id != challenge.user_id:
            await self._audit.record(
                _record(
                    AuditEvent.WRONG_ACCOUNT,
                    challenge,
                    credential_id=credential.credential_id,
                    detail={"device_user_id": credential.user_id},
                )
            )
            raise errors.WrongAccount(
                "This device is not enrolled for the challenge's user.", challenge_id=challenge_id
            )
        if decision == "approve" and reason:
            raise errors.InvalidRequest("An approval cannot carry a denial reason.")
        message = challenge.response_message(
            origin=self._settings.origin,
            credential_id=credential.credential_id,
            decision=decision,
            reason=reason,
            verification_code=verification_code,
        )
        # The decision, code and displayed context are all inside the signature: a response
        # altered in transit (approve for deny, another challenge, other context) fails here.
        if not verify(public_key=credential.public_key, message=message, signature=signature):
            await self._audit.record(
                _record(
                    AuditEvent.INVALID_SIGNATURE,
                    challenge,
                    credential_id=credential.credential_id,
                    detail={"what": "challenge response"},
                )
            )
            raise errors.InvalidSignature(
                "The response signature does not verify for this challenge and device.",
                challenge_id=challenge_id,
            )
        if challenge.status is not ChallengeStatus.PENDING:
            # Replays and late answers land here: the first answer already decided.
            await self._audit.record(
                _record(
                    AuditEvent.REPLAYED_RESPONSE,
                    challenge,
                    credential_id=credential.credential_id,
                    detail={"status": challenge.status.value, "decision": decision},
                )
            )
            raise errors.ChallengeNotPending(
                f"Challenge {challenge_id} is already {challenge.status.value}.",
                challenge_id=challenge_id,
                status=challenge.status.value,
            )
        outcome = judge_response(
            response=message,
            expected_code=challenge.verification_code,
            number_matching=challenge.number_matching,
        )
        return await self._resolve(
            challenge,
            outcome.status,
            reason=outcome.reason.value if outcome.reason else None,
            resolved_at_ms=now_ms(),
            credential_id=credential.credential_id,
            decision=decision,
            response_reason=reason,
            response_code=verification_code,
            signature=signature,
        )

    async def _resolve(
        self, challenge: Challenge, status: ChallengeStatus, **values: object
    ) -> Challenge:
        records: list[AuditRecord] = []
        answered_by = values.get("credential_id")
        async with self._db.write() as connection:
            # Lock order everywhere: the user's limit row first, then the challenge.
            state = await limits_store.load_for_update(connection, challenge.user_id)
            if isinstance(answered_by, str):
                credential = await device_store.get(connection, answered_by)
                # Revocation wins over an answer that was in flight when it happened.
                if credential is None or credential.is_revoked:
                    raise errors.CredentialRevoked(
                        "This device has been revoked. Enroll it again to use it.",
                        credential_id=answered_by,
                    )
            won = await store.resolve(
                connection,
                challenge.challenge_id,
                status,
                # An answer must arrive before the expiry, judged at the moment it is recorded.
                unexpired_at=now_ms() if answered_by else None,
                **values,
            )
            if won is not None:
                if won.credential_id is not None:
                    await device_store.touch(connection, won.credential_id, now_ms())
                records = await self._settle(connection, won, state=state)
            current = won or await store.get(connection, challenge.challenge_id)
        assert current is not None
        if won is None and current.status is ChallengeStatus.PENDING:
            current = await self.expire_if_due(current)  # lost to the clock: it has expired
        if won is None:
            raise errors.ChallengeNotPending(
                f"Challenge {challenge.challenge_id} is already {current.status.value}.",
                challenge_id=challenge.challenge_id,
                status=current.status.value,
            )
        await self._after_commit(won, records)
        return won

    async def _settle(
        self,
        connection: AsyncConnection,
        challenge: Challenge,
        replaced_by: str | None = None,
        state: policy.LimitState | None = None,
    ) -> list[AuditRecord]:
        """In the resolving transaction: the audit rows and the user's failure/lock state."""
        event = _OUTCOME_EVENTS[challenge.status]
        if challenge.reason == DenialReason.NOT_ME:
            event = AuditEvent.CHALLENGE_NOT_ME  # a security event: the user saw an attack
        detail: dict[str, object] = {}
        if challenge.reason:
            detail["reason"] = challenge.reason
        if replaced_by:
            detail["replaced_by"] = replaced_by
        records = [
            await audit_log.append(
                connection,
                _record(
                    event,
                    challenge,
                    at_ms=challenge.resolved_at_ms or now_ms(),
                    credential_id=challenge.credential_id,
                    detail=detail or None,
                    receipt=challenge.receipt(self._settings.origin),
                ),
            )
        ]
        # ``state``: the user's limit row, already locked by the caller in this transaction.
        state = state or await limits_store.load_for_update(connection, challenge.user_id)
        new_state, locked = policy.after_outcome(
            state,
            status=challenge.status,
            reason=challenge.reason,
            now_ms=now_ms(),
            settings=self._settings,
        )
        if new_state != state:
            await limits_store.save(connection, new_state)
        if locked:
            records.append(
                await audit_log.append(
                    connection,
                    AuditRecord(
                        event=AuditEvent.USER_LOCKED,
                        user_id=challenge.user_id,
                        challenge_id=challenge.challenge_id,
                        credential_id=challenge.credential_id,
                        detail={"reason": locked, "until": iso(new_state.locked_until_ms)},
                    ),
                )
            )
        return records

    async def _after_commit(self, won: Challenge | None, records: list[AuditRecord]) -> None:
        await self._audit.publish(records)
        if won is not None:
            await self._announce(won)

    async def _announce(self, challenge: Challenge) -> None:
        await self._notifier.publish(
            {
                "type": "resolved",
                "challenge_id": challenge.challenge_id,
                "status": challenge.status.value,
                "reason": challenge.reason,
            },
            challenge_channel(challenge.challenge_id),
            user_channel(challenge.user_id),
        )
