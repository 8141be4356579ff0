"""What the device does, without any UI: enroll, list, answer, follow the stream.

Both the scriptable commands and the full-screen app call these; none of them prints. Calls that
sign take an optional ``key``: an account whose key is PIN-wrapped is unlocked once by the caller
(:func:`pushauth_device.keystore.load_key` with the PIN) and the key passed in; otherwise the key is
read from the keyring.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pushauth_device import keystore
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import ChallengeUnavailable, KeyMissing, KeyringUnavailable
from pushauth_device.visible import visible
from pushauth_server.client import (
    ChallengeNotPending,
    CredentialRevoked,
    DeviceIdentity,
    PendingChallenge,
    PushAuthClient,
    ResponseResult,
    ServerUnreachable,
    StreamEvent,
    Unauthorized,
    UnexpectedResponse,
    calls,
    enrollment_proof,
)
from pushauth_server.protocol import Decision, DenyReason, generate_private_key

__all__ = [
    "Disconnected",
    "Search",
    "answer",
    "device_client",
    "enroll",
    "find_pending",
    "follow",
    "not_pending",
    "pending",
    "remove",
    "revoke",
]


async def enroll(
    store: AccountStore,
    *,
    server_url: str,
    token: str,
    device_name: str,
    pin: str | None = None,
) -> Account:
    """Register a new key for the token's user; with ``pin``, the key is kept wrapped under it."""
    # Refuse before the single-use token is spent if the key would have nowhere safe to live.
    keystore.ensure_secure_backend()
    if pin is not None:
        keystore.validate_pin(pin)
    async with PushAuthClient(server_url) as client:
        info = await client.call(calls.health())
        private_key = generate_private_key()
        body = enrollment_proof(
            private_key, origin=info.origin, token=token, device_name=device_name
        )
        registration = await client.call(calls.register(**body))
    # scrypt takes a moment: keep it off the caller's event loop.
    await asyncio.to_thread(keystore.save_key, registration.credential_id, private_key, pin=pin)
    account = Account(
        credential_id=registration.credential_id,
        user_id=registration.user_id,
        server_url=server_url.rstrip("/"),
        origin=registration.origin,
        device_name=registration.device_name,
        created_at_ms=registration.created_at_ms,
        require_pin=pin is not None,
        app_name=registration.app_name,
        app_display_name=registration.app_display_name,
    )
    store.add(account)
    return account


async def revoke(
    store: AccountStore, account: Account, key: Ed25519PrivateKey | None = None
) -> None:
    """Revoke the account's credential on the server (signed by this device), then forget it.

    A credential the server already revoked or no longer knows is simply forgotten here.
    """
    try:
        async with device_client(account, key) as client:
            await client.call(calls.revoke_self())
    except CredentialRevoked:
        pass  # already revoked on the server: nothing left to revoke
    except Unauthorized as exc:
        # Only "the server does not know this credential" means there is nothing to revoke; a
        # stale clock or a bad signature means the revocation did NOT happen: keep the key.
        if exc.code != "unknown_credential":
            raise
    remove(store, account)


def remove(store: AccountStore, account: Account) -> None:
    """Forget the account on this device: its key leaves the keyring, its entry the store."""
    keystore.delete_key(account.credential_id)
    store.remove(account.credential_id)


@asynccontextmanager
async def device_client(
    account: Account, key: Ed25519PrivateKey | None = None
) -> AsyncIterator[PushAuthClient]:
    identity = DeviceIdentity(
        origin=account.origin,
        credential_id=account.credential_id,
        private_key=key or keystore.load_key(account.credential_id),
    )
    async with PushAuthClient(account.server_url, identity=identity) as client:
        yield client


async def pending(account: Account, key: Ed25519PrivateKey | None = None) -> list[PendingChallenge]:
    async with device_client(account, key) as client:
        return await client.call(calls.pending_challenges())


@dataclass(frozen=True, kw_only=True, slots=True)
class Search:
    """Where a challenge is pending: the account that can answer it, and the accounts that could
    not be asked (key missing, keyring locked, server down), each with its error."""

    found: tuple[Account, PendingChallenge] | None
    unchecked: list[tuple[Account, Exception]]


# An account that cannot be asked does not stop the search among the others.
_SKIPPABLE = (KeyMissing, KeyringUnavailable, ServerUnreachable, CredentialRevoked)


async def find_pending(
    accounts: list[Account],
    challenge_id: str,
    keys: Mapping[str, Ed25519PrivateKey] | None = None,
) -> Search:
    """The account among ``accounts`` that has ``challenge_id`` pending: one of the challenge's
    user, since the server lists each account only its own user's challenges."""
    unchecked: list[tuple[Account, Exception]] = []
    for account in accounts:
        try:
            found = await pending(account, (keys or {}).get(account.credential_id))
        except _SKIPPABLE as exc:
            unchecked.append((account, exc))
            continue
        for challenge in found:
            if challenge.challenge_id == challenge_id:
                return Search(found=(account, challenge), unchecked=unchecked)
    return Search(found=None, unchecked=unchecked)


def not_pending(challenge_id: str, unchecked: list[tuple[Account, Exception]]) -> Exception:
    """The error for a search that found nothing: the first account's own error if no account
    could be asked at all, else :class:`ChallengeUnavailable` naming the accounts not asked."""
    hint = "See what is pending with: pushauth-device pending"
    if unchecked:
        names = ", ".join(a.label for a, _ in unchecked)
        hint = f"Could not ask {names}. {hint} (it says why)."
    return ChallengeUnavailable(
        f"Challenge {visible(challenge_id)} is not pending for this device: it was already "
        "answered, expired or was cancelled (or it is for another device).",
        hint,
    )


async def answer(
    account: Account,
    challenge: PendingChallenge,
    *,
    decision: Decision,
    reason: DenyReason = "",
    verification_code: str = "",
    key: Ed25519PrivateKey | None = None,
) -> ResponseResult:
    async with device_client(account, key) as client:
        assert client.identity is not None
        body = client.identity.response_body(
            challenge, decision=decision, reason=reason, verification_code=verification_code
        )
        try:
            return await client.call(calls.respond(challenge.challenge_id, body))
        except ChallengeNotPending as exc:
            status = str(exc.details.get("status", "resolved"))
            raise ChallengeUnavailable(
                f"Challenge {challenge.challenge_id} is already {visible(status)}; "
                "nothing was sent.",
                status=status,
            ) from exc


@dataclass(frozen=True, kw_only=True, slots=True)
class Disconnected:
    """The stream dropped (or never opened); the next attempt is in ``delay`` seconds."""

    delay: float
    reason: str


def backoff_delay(attempt: int, *, max_delay: float = 30.0) -> float:
    """Exponential backoff with full jitter, so many devices do not reconnect in step."""
    return random.uniform(0, min(max_delay, 0.5 * 2**attempt))  # noqa: S311 - jitter, not secrecy


async def follow(
    account: Account,
    *,
    key: Ed25519PrivateKey | None = None,
    delay: Callable[[int], float] = backoff_delay,
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[StreamEvent | Disconnected, None]:
    """The account's stream, forever: events, and on a drop a :class:`Disconnected`.

    Reconnects with ``delay(attempt)`` between tries (backoff with jitter by default); each
    (re)connect first delivers what is pending, so a challenge created while the device was
    offline still arrives. Errors other than an unreachable or garbled server (a revoked
    credential, a missing key) end the stream by propagating.
    """
    attempt = 0
    while True:
        try:
            async with (
                device_client(account, key) as client,
                aclosing(client.device_stream()) as stream,
            ):
                async for event in stream:
                    if event.kind == "ready":
                        attempt = 0
                    yield event
                    if event.kind == "revoked":
                        return
            reason = "the server closed the stream"
        except (ServerUnreachable, UnexpectedResponse) as exc:
            reason = str(exc)
        attempt += 1
        seconds = delay(attempt)
        yield Disconnected(delay=seconds, reason=reason)
        await wait(seconds)
