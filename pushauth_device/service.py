"""What the device does, without any UI: enroll, list, answer, follow the stream.

Both the scriptable commands and the full-screen app call these; none of them prints.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager

from pushauth_device import keystore
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import ChallengeUnavailable
from pushauth_server.client import (
    ChallengeNotPending,
    DeviceIdentity,
    PendingChallenge,
    PushAuthClient,
    ResponseResult,
    ServerUnreachable,
    StreamEvent,
    calls,
    enrollment_proof,
)
from pushauth_server.clock import now_ms
from pushauth_server.protocol import Decision, DenyReason, generate_private_key


async def enroll(store: AccountStore, *, server_url: str, token: str, device_name: str) -> Account:
    # Refuse before the single-use token is spent if the key would have nowhere safe to live.
    keystore.ensure_secure_backend()
    async with PushAuthClient(server_url) as client:
        info = await client.call(calls.health())
        private_key = generate_private_key()
        body = enrollment_proof(
            private_key, origin=info.origin, token=token, device_name=device_name
        )
        registration = await client.call(calls.register(**body))
    keystore.save_key(registration.credential_id, private_key)
    account = Account(
        credential_id=registration.credential_id,
        user_id=registration.user_id,
        server_url=server_url.rstrip("/"),
        origin=registration.origin,
        device_name=registration.device_name,
        created_at_ms=registration.created_at_ms,
    )
    store.add(account)
    return account


@asynccontextmanager
async def device_client(account: Account) -> AsyncIterator[PushAuthClient]:
    identity = DeviceIdentity(
        origin=account.origin,
        credential_id=account.credential_id,
        private_key=keystore.load_key(account.credential_id),
    )
    async with PushAuthClient(account.server_url, identity=identity) as client:
        yield client


async def pending(account: Account) -> list[PendingChallenge]:
    async with device_client(account) as client:
        return await client.call(calls.pending_challenges())


async def find_pending(
    accounts: list[Account], challenge_id: str
) -> tuple[Account, PendingChallenge]:
    """The account and challenge for ``challenge_id``, if it is pending for one of ``accounts``."""
    for account in accounts:
        for challenge in await pending(account):
            if challenge.challenge_id == challenge_id:
                return account, challenge
    raise ChallengeUnavailable(
        f"Challenge {challenge_id} is not pending for this device: it was already answered, "
        "expired or was cancelled (or it is for another device).",
        "See what is pending with: pushauth-device pending",
    )


async def answer(
    account: Account,
    challenge: PendingChallenge,
    *,
    decision: Decision,
    reason: DenyReason = "",
    verification_code: str = "",
) -> ResponseResult:
    async with device_client(account) as client:
        assert client.identity is not None
        body = client.identity.response_body(
            challenge, decision=decision, reason=reason, verification_code=verification_code
        )
        try:
            return await client.call(calls.respond(challenge.challenge_id, body))
        except ChallengeNotPending as exc:
            status = exc.details.get("status", "resolved")
            raise ChallengeUnavailable(
                f"Challenge {challenge.challenge_id} is already {status}; nothing was sent."
            ) from exc


def is_expired(challenge: PendingChallenge) -> bool:
    return challenge.expires_at_ms <= now_ms()


async def follow(
    account: Account,
    *,
    max_delay: float = 30.0,
) -> AsyncGenerator[StreamEvent | float, None]:
    """The account's stream, forever: events, and on a drop the delay before reconnecting.

    Reconnects with exponential backoff and full jitter; each (re)connect first delivers what is
    pending, so a challenge created while the device was offline still arrives.
    """
    attempt = 0
    while True:
        try:
            async with (
                device_client(account) as client,
                aclosing(client.device_stream()) as stream,
            ):
                async for event in stream:
                    if event.kind == "ready":
                        attempt = 0
                    yield event
                    if event.kind == "revoked":
                        return
        except ServerUnreachable:
            pass
        attempt += 1
        delay = random.uniform(0, min(max_delay, 0.5 * 2**attempt))  # noqa: S311 - jitter, not secrecy
        yield delay
        await asyncio.sleep(delay)
