"""Steps the integration tests share: enroll a device, start a sign-in, read a challenge."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx

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
