"""Steps the integration tests share: enroll a device, start a sign-in, read a challenge."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from pushauth_server.client import DeviceIdentity, PushAuthClient, calls, enrollment_proof
from pushauth_server.protocol import generate_private_key
from tests.support.processes import API_KEY, Commands

CHALLENGE_LINE = re.compile(r"Challenge (ch_[A-Za-z0-9_-]+)")


def enroll_device(commands: Commands, home: Path, user: str, name: str = "test-device") -> str:
    """Enroll a device living in ``home`` for ``user`` with the real commands; its credential id."""
    issued = commands.pushauth("enroll", user, "--json")
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    enrolled = commands.device(
        home, "enroll", "--server", commands.server.url, "--token", token, "--name", name, "--json"
    )
    assert enrolled.returncode == 0, enrolled.stderr
    return str(json.loads(enrolled.stdout)["credential_id"])


def challenge(commands: Commands, challenge_id: str) -> dict[str, object]:
    """The challenge as the relying party sees it (includes the verification code)."""
    response = httpx.get(
        f"{commands.server.url}/v1/challenges/{challenge_id}",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


def start_signin(commands: Commands, user: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Run ``pushauth signin USER`` in the background until it shows its challenge id."""
    process = commands.pushauth_popen("signin", user, *args)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        match = CHALLENGE_LINE.search(line)
        if match:
            return process, match.group(1)
    process.wait()
    raise AssertionError("signin never showed a challenge:\n" + "".join(seen))


def signin_no_wait(commands: Commands, user: str, *args: str) -> dict[str, object]:
    created = commands.pushauth("signin", user, "--no-wait", "--json", *args)
    assert created.returncode == 0, created.stderr
    data: dict[str, object] = json.loads(created.stdout)
    return data


def rp_client(commands: Commands) -> PushAuthClient:
    return PushAuthClient(commands.server.url, api_key=API_KEY)


async def api_device(commands: Commands, user: str, name: str = "api-device") -> PushAuthClient:
    """A device enrolled through the client library, its key held in memory by the test."""
    async with rp_client(commands) as rp:
        info = await rp.call(calls.health())
        token = await rp.call(calls.issue_enrollment_token(user))
        key = generate_private_key()
        body = enrollment_proof(key, origin=info.origin, token=token.token, device_name=name)
        registration = await rp.call(calls.register(**body))
    identity = DeviceIdentity(
        origin=info.origin, credential_id=registration.credential_id, private_key=key
    )
    return PushAuthClient(commands.server.url, identity=identity)


def audit_events(commands: Commands, user: str | None = None) -> list[dict[str, Any]]:
    listed = commands.pushauth("audit", *([user] if user else []), "--json")
    assert listed.returncode == 0, listed.stderr
    events: list[dict[str, Any]] = json.loads(listed.stdout)["events"]
    return events


class Watcher:
    """``pushauth-device watch --json``, started and connected: read what arrives with next()."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def next(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the watcher ended"
        data: dict[str, Any] = json.loads(line)
        return data


@contextmanager
def watching(commands: Commands, home: Path) -> Iterator[Watcher]:
    process = commands.device_popen(home, "watch", "--json")
    try:
        assert process.stderr is not None
        for line in process.stderr:  # subscribed: anything created from now on arrives
            if line.startswith("Connected"):
                break
        yield Watcher(process)
    finally:
        process.terminate()
        process.communicate(timeout=10)
