"""Device test helpers: a real server per module, enrolled accounts, a relying party, and waiting
for the app without sleeping (poll a condition between Pilot pauses, with a bound)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from pushauth_device import service
from pushauth_device.accounts import Account, AccountStore
from pushauth_server.client import ChallengeState, PushAuthClient, calls
from pushauth_server.protocol import CONTEXT_FIELDS
from tests.support.processes import API_KEY, Server, running_server

_users = itertools.count()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a module's tests; each test uses its own fresh users."""
    workdir = tmp_path_factory.mktemp("server")
    with running_server(workdir, f"sqlite+aiosqlite:///{workdir / 'pushauth.db'}") as server:
        yield server


def fresh_user(prefix: str = "user") -> str:
    return f"{prefix}{next(_users)}"


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    return AccountStore(tmp_path / "phone")


class RelyingParty:
    def __init__(self, server: Server) -> None:
        self.server = server

    async def token(self, user: str) -> str:
        async with PushAuthClient(self.server.url, api_key=API_KEY) as client:
            return (await client.call(calls.issue_enrollment_token(user))).token

    async def enroll(self, store: AccountStore, user: str, pin: str | None = None) -> Account:
        return await self.enroll_with_token(store, await self.token(user), pin=pin)

    async def enroll_with_token(
        self, store: AccountStore, token: str, pin: str | None = None
    ) -> Account:
        return await service.enroll(
            store, server_url=self.server.url, token=token, device_name="test-phone", pin=pin
        )

    async def create(self, user: str, **context: Any) -> ChallengeState:
        """Create a challenge; keyword arguments are shown context fields, ``custom`` and the
        other options of ``calls.create_challenge``."""
        shown = {
            spec.name: context.pop(spec.name) for spec in CONTEXT_FIELDS if spec.name in context
        }
        async with PushAuthClient(self.server.url, api_key=API_KEY) as client:
            return await client.call(calls.create_challenge(user_id=user, context=shown, **context))

    async def cancel(self, challenge_id: str) -> ChallengeState:
        async with PushAuthClient(self.server.url, api_key=API_KEY) as client:
            return await client.call(calls.cancel_challenge(challenge_id))

    async def get(self, challenge_id: str) -> ChallengeState:
        async with PushAuthClient(self.server.url, api_key=API_KEY) as client:
            return await client.call(calls.get_challenge(challenge_id))


@pytest.fixture
def rp(shared_server: Server) -> RelyingParty:
    return RelyingParty(shared_server)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition()`` holds; fail (not hang) after a bound."""
    for _ in range(600):  # up to ~30 s of 50 ms pauses, for a condition that takes milliseconds
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """PINs are wrapped with the lowest scrypt cost a blob may carry, so ten wrong PINs are
    quick; the production cost is checked in test_pinwrap."""
    monkeypatch.setattr("pushauth_device.pinwrap.SCRYPT_LOG2_N", 10)
