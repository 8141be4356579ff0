"""Creating, answering, cancelling and expiring challenges.

The rules that make the flow safe live here, each next to the attack it stops. State changes are
compare-and-set updates (``store.resolve``), so of any number of concurrent answers, cancels and
expiries exactly one takes effect and the others see ``challenge_not_pending``.
"""

from __future__ import annotations

import msgspec

from pushauth_server import errors
from pushauth_server.clock import new_id, new_nonce, now_ms
from pushauth_server.domain.challenges import store
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.challenges.schemas import CreateChallengeIn, device_challenge_out
from pushauth_server.domain.devices import store as device_store
from pushauth_server.domain.devices.models import Credential
from pushauth_server.protocol import (
    ChallengeContext,
    ChallengeStatus,
    Decision,
    DenyReason,
    judge_response,
    new_verification_code,
    verify,
)
from pushauth_server.realtime import Notifier, challenge_channel, user_channel
from pushauth_server.settings import Settings
from pushauth_server.storage import Database


class ChallengeService:
    def __init__(self, database: Database, settings: Settings, notifier: Notifier) -> None:
        self._db = database
        self._settings = settings
        self._notifier = notifier

    async def create(self, request: CreateChallengeIn) -> tuple[Challenge, int]:
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
        challenge = Challenge(
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
        async with self._db.write() as connection:
            devices = await device_store.count_active(connection, request.user_id)
            if devices == 0:
                raise errors.NoEnrolledDevice(
                    f"User {request.user_id!r} has no enrolled device. "
                    f"Enroll one first: pushauth enroll {request.user_id}",
                    user_id=request.user_id,
                )
            await store.add(connection, challenge)
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
        async with self._db.write() as connection:
            won = await store.resolve(
                connection,
                challenge.challenge_id,
                ChallengeStatus.EXPIRED,
                resolved_at_ms=now,
            )
            current = won or await store.get(connection, challenge.challenge_id)
        if won is not None:
            await self._announce(won)
        assert current is not None
        return current

    async def expire_due(self) -> list[Challenge]:
        async with self._db.write() as connection:
            expired = await store.expire_due(connection, now_ms())
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
            raise errors.InvalidSignature(
                "The response signature does not verify for this challenge and device.",
                challenge_id=challenge_id,
            )
        if challenge.status is not ChallengeStatus.PENDING:
            # Replays and late answers land here: the first answer already decided.
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
        now = now_ms()
        return await self._resolve(
            challenge,
            outcome.status,
            reason=outcome.reason.value if outcome.reason else None,
            resolved_at_ms=now,
            credential_id=credential.credential_id,
            decision=decision,
            response_reason=reason,
            response_code=verification_code,
            signature=signature,
            touch_credential=credential.credential_id,
        )

    async def _resolve(
        self,
        challenge: Challenge,
        status: ChallengeStatus,
        touch_credential: str | None = None,
        **values: object,
    ) -> Challenge:
        async with self._db.write() as connection:
            won = await store.resolve(connection, challenge.challenge_id, status, **values)
            if won is not None and touch_credential is not None:
                await device_store.touch(connection, touch_credential, now_ms())
            current = won or await store.get(connection, challenge.challenge_id)
        assert current is not None
        if won is None:
            raise errors.ChallengeNotPending(
                f"Challenge {challenge.challenge_id} is already {current.status.value}.",
                challenge_id=challenge.challenge_id,
                status=current.status.value,
            )
        await self._announce(won)
        return won

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
