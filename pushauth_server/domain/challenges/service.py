"""Creating, answering, cancelling and expiring challenges.

The rules that make the flow safe live here, each next to the attack it stops. Each step is one
transaction with as few statements as its rules allow (``store``):

* **create**: (PostgreSQL: the user's lock), one read of every fact the limits need, the insert,
  its audit row; the limit row is written only when a refusal changes it;
* **answer**: one read of the challenge, the answering credential and the user's limit row; the
  signature checked in memory; one compare-and-set that also requires the credential unrevoked and
  the challenge unexpired; its audit row; the limit row only when the outcome changes it;
* **expiry**: one ``UPDATE ... RETURNING`` for everything due.

Every resolution also writes its webhook deliveries, in the same transaction (the outbox: one
``INSERT ... SELECT`` per challenge, 0..n rows; ``domain/webhooks/outbox.py``).

Of any number of concurrent answers, cancels and expiries exactly one takes effect; the others see
``challenge_not_pending``. After the commit, the outcome is published once, as the relying
party's whole view of it (``events``), so waiting relying parties never read it back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pushauth_server import errors
from pushauth_server.clock import iso, new_id, new_nonce, now_ms
from pushauth_server.domain.apps.access import may_see_challenge
from pushauth_server.domain.apps.models import AppIdentity, Scope
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges import store
from pushauth_server.domain.challenges.models import Challenge, context_dict
from pushauth_server.domain.challenges.schemas import (
    ChallengeOut,
    CreateChallengeIn,
    challenge_out,
)
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.limits import policy
from pushauth_server.domain.limits import store as limits_store
from pushauth_server.domain.webhooks.events import WebhookEvent
from pushauth_server.domain.webhooks.outbox import Outbox, OutboxBatch
from pushauth_server.events import ResolvedEvent, challenge_event
from pushauth_server.observability.metrics import Metrics
from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    RELYING_PARTY_FIELDS,
    ChallengeContext,
    ChallengeResponse,
    ChallengeStatus,
    Decision,
    DenialReason,
    DenyReason,
    judge_response,
    new_verification_code,
    verify,
)
from pushauth_server.protocol.legacy import ChallengeResponseV2, as_older, legacy_context_hash
from pushauth_server.realtime import Notifier, challenge_channel, user_channel
from pushauth_server.settings import Settings
from pushauth_server.storage import Connection, Database

_OUTCOME_EVENTS = {
    ChallengeStatus.APPROVED: AuditEvent.CHALLENGE_APPROVED,
    ChallengeStatus.DENIED: AuditEvent.CHALLENGE_DENIED,
    ChallengeStatus.EXPIRED: AuditEvent.CHALLENGE_EXPIRED,
    ChallengeStatus.CANCELLED: AuditEvent.CHALLENGE_CANCELLED,
}


def _signed_as_v2(
    challenge: Challenge, message: ChallengeResponse, public_key: str, signature: str
) -> bool:
    """Only to name the problem: whether an answer that failed verification is a valid version 2
    one (its context hash without the application). It is refused either way."""
    v2 = as_older(
        ChallengeResponseV2,
        message,
        context_hash=legacy_context_hash(challenge.context, version=2),
    )
    return verify(public_key=public_key, message=v2, signature=signature)


def _replaces_any(app: AppIdentity) -> bool:
    """Whether ``replace_pending`` from ``app`` may cancel any pending challenge of the user (its
    routes already checked the user): as for cancelling, an ``admin`` app may; any other only
    its own (access.may_see_challenge)."""
    return Scope.ADMIN in app.scopes


def _record(event: AuditEvent, challenge: Challenge, **fields: object) -> AuditRecord:
    return AuditRecord(
        event=event,
        user_id=challenge.user_id,
        challenge_id=challenge.challenge_id,
        action=challenge.action,
        context=context_dict(challenge.context),
        **fields,  # type: ignore[arg-type]
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolution:
    """A challenge this process moved out of ``pending``, to announce after the commit."""

    challenge: Challenge
    device_name: str | None = None
    replaced_by: str | None = None


def _ignoring_window(state: policy.LimitState) -> policy.LimitState:
    # The window start an approval sets is read back from the challenges themselves
    # (store.create_facts), so it alone is no reason to write the limit row.
    return replace(state, window_start_ms=0)


class ChallengeService:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        notifier: Notifier,
        audit: AuditLog,
        outbox: Outbox,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = database
        self._settings = settings
        self._notifier = notifier
        self._audit = audit
        self._outbox = outbox
        self._metrics = metrics or Metrics()

    # --- create ---------------------------------------------------------------------------------

    def _new_challenge(self, request: CreateChallengeIn, app: AppIdentity) -> Challenge:
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
        context: Any = request.context  # a ContextIn: its fields are RELYING_PARTY_FIELDS
        return Challenge(
            challenge_id=new_id("ch"),
            user_id=request.user_id,
            action=request.action,
            context=ChallengeContext(
                user_id=request.user_id,
                action=request.action,
                created_at_ms=created,
                custom=ChallengeContext.custom_items(context.custom),
                # Which application asks, from the server's own records (the checked API key),
                # never from the body: signed by the device along with the rest.
                application=app.display_name,
                **{spec.name: getattr(context, spec.name) for spec in RELYING_PARTY_FIELDS},
            ),
            nonce=new_nonce(),
            verification_code=new_verification_code(settings.verification_code_digits),
            number_matching=request.number_matching,
            status=ChallengeStatus.PENDING,
            reason=None,
            created_at_ms=created,
            expires_at_ms=created + round(ttl * 1000),
            app_id=app.app_id,
        )

    def _check_create(
        self,
        state: policy.LimitState,
        facts: store.CreateFacts,
        request: CreateChallengeIn,
        app: AppIdentity,
        now: int,
    ) -> policy.Refusal | None:
        return policy.check_create(
            state,
            recent=facts.recent,
            pending=facts.pending,
            replace_pending=request.replace_pending,
            now_ms=now,
            settings=self._settings,
            pending_of_others=0 if _replaces_any(app) else facts.pending_of_others,
        )

    async def create(self, request: CreateChallengeIn, app: AppIdentity) -> tuple[Challenge, int]:
        """Create a challenge for ``request`` on behalf of the calling application ``app``."""
        challenge = self._new_challenge(request, app)
        now = challenge.created_at_ms
        user_id = request.user_id
        records: list[AuditRecord] = []
        replaced: list[Resolution] = []
        refusal: policy.Refusal | None = None
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            await store.lock_user(connection, user_id)
            window_ms = round(self._settings.challenge_window_seconds * 1000)
            facts = await store.create_facts(connection, user_id, now, window_ms, app.app_id)
            if facts.devices == 0:
                raise errors.NoEnrolledDevice(
                    f"User {user_id!r} has no enrolled device. "
                    f"Enroll one first: pushauth enroll {user_id}",
                    user_id=user_id,
                )
            state = facts.limits
            refusal = self._check_create(state, facts, request, app, now)
            if refusal and refusal.state != state and connection.dialect.name == "postgresql":
                # The refusal writes the limit row: decide again on the row as it is now, held
                # (a failure settled meanwhile must not be overwritten by this read's copy).
                held = await limits_store.locked(connection, user_id)
                state = replace(
                    held, window_start_ms=max(held.window_start_ms, state.window_start_ms)
                )
                refusal = self._check_create(state, facts, request, app, now)
            if refusal is not None:
                # A refused challenge is recorded and sends nothing to any device.
                if refusal.state != state:
                    await limits_store.save(connection, refusal.state)
                detail = {"reason": refusal.reason, "code": refusal.error.code}
                detail.update({k: v for k, v in refusal.error.details.items() if k == "until"})
                refused = _record(AuditEvent.CHALLENGE_REFUSED, challenge, detail=detail)
                records.append(await audit_log.append(connection, refused))
            else:
                if facts.pending and request.replace_pending:
                    # Never two at once on the device: the old one is cancelled, and says why.
                    # Only what this app may cancel (its own; an admin's: every one of its users').
                    own = None if _replaces_any(app) else app.app_id
                    for old in await store.cancel_pending(connection, user_id, now, app_id=own):
                        replaced.append(
                            Resolution(challenge=old, replaced_by=challenge.challenge_id)
                        )
                        records.extend(
                            await self._settle(
                                connection,
                                batch,
                                old,
                                replaced_by=challenge.challenge_id,
                                state=state,
                                by=app,
                            )
                        )
                created = _record(
                    AuditEvent.CHALLENGE_CREATED,
                    challenge,
                    detail={"app": app.name, "app_id": app.app_id},
                )
                event_id = await store.add_with_audit(connection, challenge, created.to_row())
                records.append(replace(created, event_id=event_id))
        batch.done()
        await self._audit.publish(records)
        if refusal is not None:
            self._metrics.challenge_refused(refusal.error.code)
            raise refusal.error
        self._metrics.challenge_created()
        for resolution in replaced:
            await self._announce(resolution)
        await self._notifier.publish(
            challenge_event(challenge),
            user_channel(user_id),
        )
        return challenge, facts.devices

    # --- read -----------------------------------------------------------------------------------

    def _check_sees(self, challenge: Challenge, app: AppIdentity | None) -> None:
        """Another app's challenge is answered like an unknown id: it learns nothing of it."""
        if app is not None and not may_see_challenge(
            app, owner_app_id=challenge.app_id, user_id=challenge.user_id
        ):
            raise _not_found(challenge.challenge_id)

    async def view(self, challenge_id: str, app: AppIdentity | None = None) -> ChallengeOut:
        """The relying party's view (one read; a challenge whose time is up is expired first).

        ``app``: the calling application, which must be allowed to see it; its read is audited
        off the hot path (folded, written by the audit log's background writer)."""
        async with self._db.read() as connection:
            found = await store.get_with_device(connection, challenge_id)
        if found is None:
            raise _not_found(challenge_id)
        challenge, device_name = found
        self._check_sees(challenge, app)
        if app is not None:
            self._audit.reads.note(
                AuditEvent.CHALLENGE_READ,
                app,
                challenge_id=challenge_id,
                user_id=challenge.user_id,
            )
        # Expired here, it was answered by no device: device_name is already None.
        return challenge_out(await self.expire_if_due(challenge), device_name=device_name)

    async def get(self, challenge_id: str) -> Challenge:
        async with self._db.read() as connection:
            challenge = await store.get(connection, challenge_id)
        if challenge is None:
            raise _not_found(challenge_id)
        return await self.expire_if_due(challenge)

    async def pending_for_user(self, user_id: str) -> list[Challenge]:
        async with self._db.read() as connection:
            return await store.pending_for_user(connection, user_id, now_ms())

    # --- cancel and expire ----------------------------------------------------------------------

    async def cancel(self, challenge_id: str, app: AppIdentity | None = None) -> ChallengeOut:
        """Cancel it on behalf of ``app`` (which must be allowed to see it; the audit row
        names it)."""
        challenge = await self.get(challenge_id)
        self._check_sees(challenge, app)
        won = await self._resolve(challenge, ChallengeStatus.CANCELLED, by=app)
        if won is None:
            current = await self.get(challenge_id)
            raise errors.ChallengeNotPending(
                f"Challenge {challenge_id} is already {current.status.value}.",
                challenge_id=challenge_id,
                status=current.status.value,
            )
        return challenge_out(won)

    async def expire_if_due(self, challenge: Challenge) -> Challenge:
        """Expire ``challenge`` if its time is up (server time); returns its current state."""
        if challenge.status is not ChallengeStatus.PENDING or challenge.expires_at_ms > now_ms():
            return challenge
        won = await self._resolve(challenge, ChallengeStatus.EXPIRED)
        if won is not None:
            return won
        async with self._db.read() as connection:
            current = await store.get(connection, challenge.challenge_id)
        assert current is not None
        return current

    async def _resolve(
        self, challenge: Challenge, status: ChallengeStatus, by: AppIdentity | None = None
    ) -> Challenge | None:
        """Cancel or expire ``challenge`` (compare-and-set); None if it was no longer pending.
        ``by``: the application that cancelled it."""
        now = now_ms()
        records: list[AuditRecord] = []
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            won = await store.resolve(
                connection, challenge.challenge_id, status, resolved_at_ms=now
            )
            if won is not None:
                records = await self._settle(connection, batch, won, by=by)
        batch.done()
        await self._audit.publish(records)
        if won is not None:
            await self._announce(Resolution(challenge=won))
        return won

    async def expire_now(self, challenge_id: str) -> Challenge | None:
        """Expire it if it is due and still pending (no read first); None if not this call."""
        records: list[AuditRecord] = []
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            won = await store.expire_one(connection, challenge_id, now_ms())
            if won is not None:
                records = await self._settle(connection, batch, won)
        batch.done()
        await self._audit.publish(records)
        if won is not None:
            await self._announce(Resolution(challenge=won))
        return won

    async def next_expiry(self) -> int | None:
        async with self._db.read() as connection:
            return await store.next_expiry(connection)

    async def expire_due(self) -> list[Challenge]:
        """Expire everything due: one statement, then each one's audit rows and limit state."""
        records: list[AuditRecord] = []
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            expired = await store.expire_due(connection, now_ms())
            for challenge in expired:  # sorted by user: limit rows are locked in one order
                records.extend(await self._settle(connection, batch, challenge))
        batch.done()
        await self._audit.publish(records)
        for challenge in expired:
            await self._announce(Resolution(challenge=challenge))
        return expired

    # --- answer ---------------------------------------------------------------------------------

    async def respond(
        self,
        *,
        challenge_id: str,
        credential_id: str,
        decision: Decision,
        reason: DenyReason,
        verification_code: str,
        signature: str,
    ) -> Challenge:
        """Judge and record a device's signed answer, in one transaction."""
        now = now_ms()
        refusal: tuple[errors.PushAuthError, AuditRecord | None] | None = None
        records: list[AuditRecord] = []
        resolutions: list[Resolution] = []
        won: Challenge | None = None
        credential: Credential | None = None
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            facts = await store.answer_facts(connection, challenge_id, credential_id)
            if facts is None:
                refusal = _unknown_credential(credential_id)
            elif facts.credential.is_revoked:
                refusal = _revoked(facts.credential)
            elif facts.challenge is None:
                refusal = (_not_found(challenge_id), None)
            else:
                credential = facts.credential
                challenge = facts.challenge
                state = facts.limits or policy.LimitState(user_id=challenge.user_id)
                if challenge.status is ChallengeStatus.PENDING and challenge.expires_at_ms <= now:
                    # Its time is up: expired now, and this answer is judged as a late one.
                    expired = await store.resolve(
                        connection, challenge_id, ChallengeStatus.EXPIRED, resolved_at_ms=now
                    )
                    if expired is not None:
                        records.extend(await self._settle(connection, batch, expired, state=state))
                        resolutions.append(Resolution(challenge=expired))
                        challenge = expired
                refusal = self._check_answer(
                    challenge, credential, decision, reason, verification_code, signature
                )
                if refusal is None:
                    outcome = judge_response(
                        response=challenge.response_message(
                            origin=self._settings.origin,
                            credential_id=credential_id,
                            decision=decision,
                            reason=reason,
                            verification_code=verification_code,
                        ),
                        expected_code=challenge.verification_code,
                        number_matching=challenge.number_matching,
                    )
                    won = await store.answer(
                        connection,
                        challenge_id,
                        status=outcome.status,
                        reason=outcome.reason.value if outcome.reason else None,
                        now_ms=now_ms(),
                        credential_id=credential_id,
                        decision=decision,
                        response_reason=reason,
                        response_code=verification_code,
                        signature=signature,
                    )
                    if won is not None:
                        records.extend(
                            await self._settle(
                                connection, batch, won, state=state, device_name=credential.name
                            )
                        )
                        resolutions.append(Resolution(challenge=won, device_name=credential.name))
        batch.done()
        await self._audit.publish(records)
        for resolution in resolutions:
            await self._announce(resolution)
        if refusal is not None:
            error, record = refusal
            if record is not None:
                await self._audit.record(record)
            raise error
        if won is None:
            raise await self._lost(challenge_id, credential_id)
        return won

    def _check_answer(
        self,
        challenge: Challenge,
        credential: Credential,
        decision: Decision,
        reason: DenyReason,
        verification_code: str,
        signature: str,
    ) -> tuple[errors.PushAuthError, AuditRecord | None] | None:
        """Why this answer is refused, with the audit record it earns; None: judge it."""
        challenge_id = challenge.challenge_id
        # A device may only answer its own user's challenges.
        if credential.user_id != challenge.user_id:
            return errors.WrongAccount(
                "This device is not enrolled for the challenge's user.", challenge_id=challenge_id
            ), _record(
                AuditEvent.WRONG_ACCOUNT,
                challenge,
                credential_id=credential.credential_id,
                detail={"device_user_id": credential.user_id},
            )
        if decision == "approve" and reason:
            return errors.InvalidRequest("An approval cannot carry a denial reason."), None
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
            error: errors.PushAuthError = errors.InvalidSignature(
                "The response signature does not verify for this challenge and device.",
                challenge_id=challenge_id,
            )
            if _signed_as_v2(challenge, message, credential.public_key, signature):
                error = errors.UnsupportedProtocolVersion.signed_under(
                    2, "challenge responses", PROTOCOL_VERSION
                )
            return error, _record(
                AuditEvent.INVALID_SIGNATURE,
                challenge,
                credential_id=credential.credential_id,
                detail={"what": "challenge response"},
            )
        if challenge.status is not ChallengeStatus.PENDING:
            # Replays and late answers land here: the first answer already decided.
            return errors.ChallengeNotPending(
                f"Challenge {challenge_id} is already {challenge.status.value}.",
                challenge_id=challenge_id,
                status=challenge.status.value,
            ), _record(
                AuditEvent.REPLAYED_RESPONSE,
                challenge,
                credential_id=credential.credential_id,
                detail={"status": challenge.status.value, "decision": decision},
            )
        return None

    async def _lost(self, challenge_id: str, credential_id: str) -> errors.PushAuthError:
        """Why a valid answer's compare-and-set found nothing to change (a race, PostgreSQL)."""
        async with self._db.read() as connection:
            facts = await store.answer_facts(connection, challenge_id, credential_id)
        if facts is None or facts.credential.is_revoked:
            return errors.CredentialRevoked(
                "This device has been revoked. Enroll it again to use it.",
                credential_id=credential_id,
            )
        assert facts.challenge is not None
        current = await self.expire_if_due(facts.challenge)  # lost to the clock: it expired
        return errors.ChallengeNotPending(
            f"Challenge {challenge_id} is already {current.status.value}.",
            challenge_id=challenge_id,
            status=current.status.value,
        )

    # --- consequences ---------------------------------------------------------------------------

    async def _settle(
        self,
        connection: Connection,
        batch: OutboxBatch,
        challenge: Challenge,
        replaced_by: str | None = None,
        state: policy.LimitState | None = None,
        device_name: str | None = None,
        by: AppIdentity | None = None,
    ) -> list[AuditRecord]:
        """In the resolving transaction: the webhook deliveries (the outbox), the audit rows and
        the user's failure/lock state.

        ``state``: the user's limit state as read in this transaction, if it was; ``by``: the
        application that cancelled it.
        """
        await self._outbox.challenge_resolved(
            connection,
            batch,
            challenge,
            device_name=device_name,
            now_ms=challenge.resolved_at_ms or now_ms(),
        )
        event = _OUTCOME_EVENTS[challenge.status]
        if challenge.reason == DenialReason.NOT_ME:
            event = AuditEvent.CHALLENGE_NOT_ME  # a security event: the user saw an attack
        detail: dict[str, object] = {}
        if challenge.reason:
            detail["reason"] = challenge.reason
        if replaced_by:
            detail["replaced_by"] = replaced_by
        if by is not None:
            detail.update(app_id=by.app_id, app=by.name)
        outcome = _record(
            event,
            challenge,
            at_ms=challenge.resolved_at_ms or now_ms(),
            credential_id=challenge.credential_id,
            detail=detail or None,
            receipt=challenge.receipt(self._settings.origin),
        )
        if challenge.status is ChallengeStatus.CANCELLED:
            # a relying party's cancellation is not a failure
            return [await audit_log.append(connection, outcome)]
        # The limit row first, the audit rows last: on PostgreSQL appending takes the audit
        # chain's lock until the commit, and every transaction takes row locks before it
        # (create's refusal and unlock do too), so two of them never wait on each other.
        now = now_ms()
        if state is None:
            state = await limits_store.locked(connection, challenge.user_id)
        new_state, locked = policy.after_outcome(
            state,
            status=challenge.status,
            reason=challenge.reason,
            now_ms=now,
            settings=self._settings,
        )
        if _ignoring_window(new_state) != _ignoring_window(state):
            if connection.dialect.name == "postgresql":
                # Another transaction may have changed the row since it was read: hold it, and
                # decide again from what it holds now.
                state = await limits_store.locked(connection, challenge.user_id)
                new_state, locked = policy.after_outcome(
                    state,
                    status=challenge.status,
                    reason=challenge.reason,
                    now_ms=now,
                    settings=self._settings,
                )
            await limits_store.save(connection, new_state)
        if locked:
            await self._outbox.user_event(
                connection,
                batch,
                WebhookEvent.USER_LOCKED,
                user_id=challenge.user_id,
                data={
                    "user_id": challenge.user_id,
                    "reason": locked,
                    "until": iso(new_state.locked_until_ms),
                    "challenge_id": challenge.challenge_id,
                },
                now_ms=now,
            )
        records = [await audit_log.append(connection, outcome)]
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

    async def _announce(self, resolution: Resolution) -> None:
        """Publish a settled challenge: the relying party's whole view, and the devices' news."""
        challenge = resolution.challenge
        resolved_at_ms = challenge.resolved_at_ms or now_ms()
        self._metrics.challenge_settled(
            challenge.status.value,
            challenge.reason,
            (resolved_at_ms - challenge.created_at_ms) / 1000,
        )
        await self._notifier.publish(
            challenge_out(challenge, device_name=resolution.device_name),
            challenge_channel(challenge.challenge_id),
        )
        await self._notifier.publish(
            ResolvedEvent(
                challenge_id=challenge.challenge_id,
                status=challenge.status.value,  # type: ignore[arg-type]
                reason=challenge.reason,
                replaced_by=resolution.replaced_by,
            ),
            user_channel(challenge.user_id),
        )


def _not_found(challenge_id: str) -> errors.ChallengeNotFound:
    return errors.ChallengeNotFound(
        f"No challenge has id {challenge_id!r}.", challenge_id=challenge_id
    )


def _unknown_credential(credential_id: str) -> tuple[errors.PushAuthError, AuditRecord]:
    return errors.UnknownCredential(
        "This device is not enrolled on this server. Enroll it again.",
        credential_id=credential_id,
    ), AuditRecord(event=AuditEvent.UNKNOWN_CREDENTIAL, credential_id=credential_id[:64])


def _revoked(credential: Credential) -> tuple[errors.PushAuthError, AuditRecord]:
    # A revoked device still trying is likely a lost or stolen one: worth a record.
    return errors.CredentialRevoked(
        "This device has been revoked. Enroll it again to use it.",
        credential_id=credential.credential_id,
    ), AuditRecord(
        event=AuditEvent.REVOKED_DEVICE_USED,
        user_id=credential.user_id,
        credential_id=credential.credential_id,
    )
